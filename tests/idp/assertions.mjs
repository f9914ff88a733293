// RFC 7523 JWT bearer assertions: made by the test "trusted issuer" (fixtures/assertion-rsa.key.pem)
// and checked by the urn:ietf:params:oauth:grant-type:jwt-bearer grant (grants.mjs).
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';

import { ASSERTION_ISSUER, ASSERTION_KID, fixture } from './fixtures.mjs';

export const ASSERTION_SKEW_SECONDS = 60;

const issuerKey = () => createPrivateKey(fixture('assertion-rsa.key.pem'));
const issuerPublicKey = () => createPublicKey(issuerKey());
const now = () => Math.floor(Date.now() / 1000);

/**
 * A signed JWT bearer assertion. Defaults: iss = the trusted issuer, RS256 with its key (kid
 * "assertion-rsa"), iat = now, exp = now + expiresIn (300; negative for an expired one), a fresh jti.
 * `key`, `kid`, `alg`, `iat` and `claims` (merged last) are for negative tests.
 */
export async function signJwtAssertion({
  sub, aud, expiresIn = 300, iss = ASSERTION_ISSUER, iat = now(), key = issuerKey(), kid = ASSERTION_KID,
  alg = 'RS256', claims = {},
}) {
  return new SignJWT({
    iss, sub, aud, iat, exp: iat + expiresIn, jti: randomUUID(), ...claims,
  }).setProtectedHeader({ alg, typ: 'JWT', kid }).sign(key);
}

/** Why jose rejected an assertion, in words for error_description. */
function explain(err) {
  if (err instanceof joseErrors.JWTExpired) return 'the assertion has expired (exp)';
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim "${err.claim}" is not acceptable: ${err.message}`;
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the assertion signature is invalid';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the assertion must be signed with RS256';
  if (err instanceof joseErrors.JOSEError) return `the assertion is not a valid JWT (${err.message})`;
  throw err;
}

/**
 * Checks an assertion as RFC 7523 §3 asks: RS256 signature by the trusted issuer, iss, sub present,
 * aud naming this server (`audiences`: the issuer and the token endpoint), exp in the future and iat
 * not in the future (both with 60 s of clock skew). Resolves to the payload; rejects with an Error
 * whose message says what is wrong (the grant turns it into invalid_grant).
 */
export async function verifyJwtAssertion(assertion, { audiences }) {
  let payload;
  try {
    ({ payload } = await jwtVerify(assertion, issuerPublicKey(), {
      algorithms: ['RS256'],
      issuer: ASSERTION_ISSUER,
      audience: audiences,
      clockTolerance: ASSERTION_SKEW_SECONDS,
      requiredClaims: ['iss', 'sub', 'aud', 'exp'],
    }));
  } catch (err) {
    throw new Error(explain(err));
  }
  if (typeof payload.iat === 'number' && payload.iat > now() + ASSERTION_SKEW_SECONDS) {
    throw new Error('the assertion was issued in the future (iat)');
  }
  if (typeof payload.sub !== 'string' || !payload.sub) throw new Error('the assertion has no subject (sub)');
  return payload;
}
