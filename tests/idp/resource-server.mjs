// A small protected resource (RFC 9449 §7) on the provider's port, under /rs/: it accepts DPoP-bound access
// tokens only, and checks each request's DPoP proof with `jose` (RFC 9449 §4.3) and the token: a JWT access
// token (the API's, RFC 9068) by its signature against the provider's JWKS, an opaque one by introspecting it at
// the provider (RFC 7662); it must be valid and its cnf.jkt must be the proof key's thumbprint.
import { createHash, randomBytes } from 'node:crypto';
import {
  calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, EmbeddedJWK, jwtVerify,
} from 'jose';
import { DPOP_ALGORITHMS } from './dpop-par.mjs';

/** The path prefix of the resource server. */
export const RESOURCE_PREFIX = '/rs/';

/** How far a proof's iat may be from now, in seconds (the sidecar offers its proofs for 60 s). */
const IAT_WINDOW = 60;

class Refusal extends Error {
  constructor(error, description, headers = {}) {
    super(description);
    this.error = error;
    this.headers = headers;
  }
}

/**
 * A node:http handler for /rs/* requests. introspect(token) answers the provider's introspection JSON and
 * jwks() the provider's JWKS; settings.resourceNonce (boolean) makes it require a nonce of its own
 * (use_dpop_nonce, RFC 9449 §9).
 */
export function resourceServer({
  issuer, settings, introspect, jwks,
}) {
  // What the token says: { active, sub, client_id, cnf } (the introspection's shape).
  async function inspect(token) {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return introspect(token); // opaque
    }
    try {
      const { payload } = await jwtVerify(token, createLocalJWKSet(await jwks()), { issuer, typ: header.typ });
      return { active: true, ...payload };
    } catch {
      return { active: false };
    }
  }

  const seen = new Map(); // jti -> when it may be forgotten (ms): each proof is good once
  const nonce = randomBytes(16).toString('base64url');

  async function check(req) {
    const url = new URL(req.url, issuer);
    const [scheme, token, ...extra] = (req.headers.authorization ?? '').split(' ');
    if (scheme?.toLowerCase() !== 'dpop' || !token || extra.length) {
      throw new Refusal('invalid_token', 'the request must carry Authorization: DPoP <access token>');
    }
    const proofs = req.headersDistinct?.dpop ?? [];
    if (proofs.length !== 1) throw new Refusal('invalid_dpop_proof', 'the request must carry exactly one DPoP header');

    let payload;
    let protectedHeader;
    try {
      ({ payload, protectedHeader } = await jwtVerify(proofs[0], EmbeddedJWK, {
        typ: 'dpop+jwt', algorithms: DPOP_ALGORITHMS, maxTokenAge: `${IAT_WINDOW}s`, clockTolerance: 5,
      }));
    } catch (err) {
      throw new Refusal('invalid_dpop_proof', `the DPoP proof does not verify: ${err.message}`);
    }
    if (typeof payload.jti !== 'string' || payload.jti.length < 12) throw new Refusal('invalid_dpop_proof', 'the DPoP proof has no jti');
    if (payload.htm !== req.method) throw new Refusal('invalid_dpop_proof', `htm is ${payload.htm}, the request's method ${req.method}`);
    const expectedHtu = `${issuer}${url.pathname}`;
    if (payload.htu !== expectedHtu) throw new Refusal('invalid_dpop_proof', `htu is ${payload.htu}, the request's URL ${expectedHtu}`);
    const ath = createHash('sha256').update(token).digest('base64url');
    if (payload.ath !== ath) throw new Refusal('invalid_dpop_proof', 'ath is not the hash of the access token');
    if (settings.resourceNonce && payload.nonce !== nonce) {
      throw new Refusal('use_dpop_nonce', 'the resource server requires its DPoP nonce', { 'DPoP-Nonce': nonce });
    }
    const now = Date.now();
    for (const [jti, until] of seen) if (until < now) seen.delete(jti);
    if (seen.has(payload.jti)) throw new Refusal('invalid_dpop_proof', 'the DPoP proof was used before (replay)');
    seen.set(payload.jti, now + 2 * IAT_WINDOW * 1000);

    const introspection = await inspect(token);
    const jkt = await calculateJwkThumbprint(protectedHeader.jwk);
    if (!introspection.active) throw new Refusal('invalid_token', 'the access token is not active');
    if (introspection.cnf?.jkt !== jkt) throw new Refusal('invalid_token', 'the access token is not bound to the proof\'s key');
    return {
      ok: true, method: req.method, path: url.pathname, sub: introspection.sub, clientId: introspection.client_id, jkt,
    };
  }

  return async function resource(req, res) {
    try {
      const answer = await check(req);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(answer));
    } catch (err) {
      if (!(err instanceof Refusal)) {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'server_error', error_description: err.message }));
        return;
      }
      const challenge = `DPoP algs="${DPOP_ALGORITHMS.join(' ')}", error="${err.error}", error_description="${err.message.replace(/"/g, "'")}"`;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': challenge, ...err.headers })
        .end(JSON.stringify({ error: err.error, error_description: err.message }));
    }
  };
}
