// Broken ID tokens for the client's negative tests. POST /__test/config {"idTokenMutation": MODE}
// arms one mutation: the NEXT token endpoint response that carries an id_token gets a modified one,
// then the setting goes back to "none". Done by rewriting the JSON body oidc-provider produced.
//
// Re-signed modes use the very key (and kid) that signed the original, taken from the provider's
// keystore, so only the one property under test is wrong.
import { createPrivateKey, generateKeyPairSync, randomBytes, sign as cryptoSign } from 'node:crypto';
import { CompactSign, importJWK } from 'jose';

export const ID_TOKEN_MUTATIONS = [
  'none',
  'tamper-signature', // one character of the signature changed
  'wrong-audience', // aud = "someone-else", re-signed
  'wrong-nonce', // nonce = "not-the-nonce", re-signed
  'expired', // exp = now - 3600, iat = now - 7200, re-signed
  'wrong-issuer', // iss = "https://evil.example", re-signed
  'azp-mismatch', // aud = [client_id, "other-party"], azp = "other-party", re-signed
  'alg-none', // header alg "none" (no kid), empty signature
  'unknown-key', // signed with a fresh key whose kid is not in the JWKS
  'stale-auth-time', // auth_time = now - 3600 (a valid token of a sign-in an hour ago), re-signed
  'no-sub', // the sub claim removed, re-signed (OpenID Connect Core §2: sub is REQUIRED)
  'numeric-sub', // sub = 42 (a number, not a string), re-signed
  'unknown-crit', // header crit ["urn:example:unknown"], re-signed (RFC 7515 §4.1.11: must be refused)
  'drop', // the id_token member removed from the response (OpenID Connect Core §3.1.3.3)
];

const json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

async function sign(header, payload, jwk) {
  const key = await importJWK(jwk, header.alg);
  return new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader(header).sign(key);
}

/** A throwaway private JWK for `alg` (RSA for RS and PS algorithms, P-256 for ES256). */
function strangerKey(alg) {
  const pair = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return pair.privateKey.export({ format: 'jwk' });
}

/** The id_token `jwt` changed as `mode` says; keys is signing-keys.mjs's handle on the provider's keys. */
export async function mutateIdToken(jwt, mode, keys) {
  const [headerPart, payloadPart, signature] = jwt.split('.');
  const header = json(headerPart);
  const payload = json(payloadPart);
  const resign = async (changes) => {
    const jwk = keys.byKid(header.kid) ?? keys.current(header.alg);
    if (!jwk) throw new Error(`no provider key to re-sign the ID token (kid ${header.kid})`);
    return sign(header, { ...payload, ...changes }, jwk);
  };

  switch (mode) {
    case 'tamper-signature': {
      // A character in the middle: every bit of it is significant (the last one may be padding bits).
      const i = Math.floor(signature.length / 2);
      const flipped = signature[i] === 'A' ? 'B' : 'A';
      return `${headerPart}.${payloadPart}.${signature.slice(0, i)}${flipped}${signature.slice(i + 1)}`;
    }
    case 'wrong-audience': return resign({ aud: 'someone-else' });
    case 'wrong-nonce': return resign({ nonce: 'not-the-nonce' });
    case 'expired': return resign({ exp: now() - 3600, iat: now() - 7200 });
    case 'wrong-issuer': return resign({ iss: 'https://evil.example' });
    case 'stale-auth-time': return resign({ auth_time: now() - 3600 });
    case 'azp-mismatch': {
      const clientId = Array.isArray(payload.aud) ? payload.aud[0] : payload.aud;
      return resign({ aud: [clientId, 'other-party'], azp: 'other-party' });
    }
    case 'alg-none': {
      const { kid, ...rest } = header;
      return `${encode({ ...rest, alg: 'none' })}.${payloadPart}.`;
    }
    case 'no-sub': {
      const jwk = keys.byKid(header.kid) ?? keys.current(header.alg);
      const { sub, ...rest } = payload;
      return sign(header, rest, jwk);
    }
    case 'numeric-sub': return resign({ sub: 42 });
    case 'unknown-crit': {
      // jose refuses to sign a crit it does not know (as a verifier must refuse it): signed with node:crypto.
      const jwk = keys.byKid(header.kid) ?? keys.current(header.alg);
      const input = `${encode({ ...header, crit: ['urn:example:unknown'], 'urn:example:unknown': true })}.${payloadPart}`;
      const bits = header.alg.slice(2);
      const options = { key: createPrivateKey({ key: jwk, format: 'jwk' }) };
      if (header.alg.startsWith('ES')) options.dsaEncoding = 'ieee-p1363';
      if (header.alg.startsWith('PS')) Object.assign(options, { padding: 6, saltLength: Number(bits) / 8 }); // RSA_PKCS1_PSS_PADDING
      return `${input}.${cryptoSign(`sha${bits}`, Buffer.from(input), options).toString('base64url')}`;
    }
    case 'unknown-key': {
      const kid = `unknown-${randomBytes(6).toString('hex')}`;
      return sign({ ...header, kid }, payload, strangerKey(header.alg));
    }
    default: throw new Error(`unknown idTokenMutation "${mode}"`);
  }
}

/** Koa middleware (provider.use) rewriting the next token response that has an id_token. */
export function idTokenMutation(settings, routes, keys) {
  return async function idTokenMutationMiddleware(ctx, next) {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== routes.token || settings.idTokenMutation === 'none') return;
    const body = ctx.body;
    if (ctx.status !== 200 || !body || typeof body !== 'object' || typeof body.id_token !== 'string') return;
    const mode = settings.idTokenMutation;
    settings.idTokenMutation = 'none'; // taken before any await: one response only
    if (mode === 'drop') {
      const { id_token: dropped, ...rest } = body;
      ctx.body = rest;
      return;
    }
    ctx.body = { ...body, id_token: await mutateIdToken(body.id_token, mode, keys) };
  };
}
