// Shared pieces of the test IdP's own tests.
import { createServer } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { createLocalJWKSet } from 'jose';
import { httpRequest } from './http-client.mjs';

/** A stand-in for the sidecar's loopback server: records each request, answers 200. */
export async function loopbackServer() {
  const received = [];
  const waiting = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url, 'http://127.0.0.1');
    const request = {
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())),
    };
    received.push(request);
    waiting.shift()?.(request);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('callback received');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    received,
    redirectUri: (path = '/callback', host = '127.0.0.1') => `http://${host}:${port}${path}`,
    close: () => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }),
  };
}

export function pkcePair() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function authorizationUrl(idp, params) {
  const url = new URL(`${idp.issuer}/auth`);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url.href;
}

/** Calls the control API: `control(idp, 'POST', '/authorize', {...})` -> { status, json }. */
export async function control(idp, method, path, body) {
  const res = await fetch(`${idp.control}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body && JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** A form POST to one of the provider's endpoints -> { status, json }. */
export async function postForm(idp, path, params, { basic } = {}) {
  const headers = {};
  if (basic) headers.authorization = `Basic ${Buffer.from(basic.join(':')).toString('base64')}`;
  const res = await fetch(`${idp.issuer}${path}`, { method: 'POST', headers, body: new URLSearchParams(params) });
  const text = await res.text(); // revocation answers 200 with an empty body
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/** The payload of a JWT, unverified. */
export const jwtPayload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

/** A Basic authorization header value. */
export const basicAuth = (id, secret) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

/** The provider's JWKS, fetched now: { keys: [...] }. */
export async function fetchJwks(idp) {
  return JSON.parse((await httpRequest(`${idp.issuer}/jwks`, { ca: idp.ca })).text);
}

/** The provider's JWKS as a jose key resolver (fetched now; fetch it again after a rotation). */
export async function providerKeys(idp) {
  return createLocalJWKSet(await fetchJwks(idp));
}

/** The protected header of a JWT, unverified. */
export const jwtHeader = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString());
