// What the provider emulators (github.mjs, google.mjs, entra.mjs) share: a small HTTP server on 127.0.0.1 with a
// route table, form/query/JSON request parsing, answers in JSON or form encoding, an RS256 key for id_tokens, a
// record of every request (method, path, the headers a test asserts on, the form's parameter names), and the same
// /__test control API as the oidc-provider test provider: /authorize plays the signed-in user who consents (the
// emulators have no login pages: GET on their authorization endpoint answers the redirect at once), /device approves
// or denies a user code, /requests lists what arrived, /config changes settings.
import { createServer } from 'node:http';
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { deliver } from '../headless-user.mjs';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const FORM_TYPE = 'application/x-www-form-urlencoded';
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** A random token with a provider's prefix (gho_, ya29., …). */
export const token = (prefix = '', bytes = 24) => `${prefix}${randomBytes(bytes).toString('base64url')}`;

/** An 8-letter user code written XXXX-XXXX, from letters that cannot be confused. */
export function userCode() {
  const letters = 'BCDFGHJKLMNPQRSTVWXZ';
  const bytes = randomBytes(8);
  const chars = [...bytes].map((b) => letters[b % letters.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4).join('')}`;
}

/**
 * Whether `requested` may be used for the registered redirect URI `registered`. `loopbackAnyPort`: on a loopback
 * host the port is ignored (RFC 8252 §7.3), as GitHub, Google and Entra do; everything else must be equal.
 * `hosts` limits which loopback hosts match (Entra: localhost only for a registered localhost URI).
 */
export function redirectMatches(registered, requested, { loopbackAnyPort = true } = {}) {
  if (!URL.canParse(requested) || !URL.canParse(registered)) return false;
  const a = new URL(registered);
  const b = new URL(requested);
  if (loopbackAnyPort && LOOPBACK.has(b.hostname)) {
    a.port = '';
    b.port = '';
  }
  return a.href === b.href;
}

/** S256 PKCE check (RFC 7636 §4.6). */
export async function pkceMatches(challenge, verifier) {
  if (!challenge) return true;
  if (!verifier) return false;
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(verifier).digest('base64url') === challenge;
}

/**
 * Starts an emulator. `routes(ctx)` returns { 'GET /path': handler, … } (a path may end with `/*` for a prefix);
 * each handler gets `req` = { method, path, query, form, json, headers, basic: { id, secret } | null } and answers
 * { status, json } | { status, form } | { status, html } | { status, redirect } | { status, text, type }. `authorize(url)`
 * and `approveDevice(userCode, deny)` are what the control API calls.
 */
export async function startEmulator({ name, settings: initial = {}, setup }) {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const base = `http://127.0.0.1:${server.address().port}`;
  const settings = { deviceInterval: 5, ...initial };
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = token('', 6);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const requests = [];
  const signIdToken = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
  const emulator = setup({ base, settings, jwks: { keys: [jwk] }, signIdToken });

  const control = {
    'POST /__test/authorize': async (body) => {
      if (typeof body.url !== 'string' || !body.url.startsWith(base)) throw badRequest(`"url" must be an authorization request URL on ${base}`);
      const answer = await handle({ method: 'GET', url: body.url.slice(base.length), headers: {}, deny: body.deny === true });
      if (!answer.redirect) throw Object.assign(new Error(`the authorization endpoint answered HTTP ${answer.status}: ${answer.html ?? JSON.stringify(answer.json)}`), { status: 500 });
      const result = { callbackUrl: answer.redirect, responseMode: 'query' };
      return body.deliver === false ? result : { ...result, ...(await deliver({ url: answer.redirect })) };
    },
    'POST /__test/device': (body) => {
      if (typeof body.userCode !== 'string') throw badRequest('"userCode" must be a string');
      if (!emulator.approveDevice(body.userCode, body.deny === true)) throw badRequest(`unknown user code "${body.userCode}"`);
      return body.deny === true ? { ok: true, denied: true } : { ok: true };
    },
    'GET /__test/requests': () => ({ requests }),
    'POST /__test/requests/reset': () => { requests.length = 0; return { requests }; },
    'GET /__test/config': () => ({ ...settings }),
    'POST /__test/config': (body) => Object.assign(settings, body) && { ...settings },
  };

  async function handle({ method, url, headers, body = '', deny = false }) {
    const { pathname, searchParams } = new URL(url, base);
    const key = `${method} ${pathname}`;
    const table = emulator.routes;
    const handler = table[key] ?? Object.entries(table).find(([k]) => k.endsWith('/*') && key.startsWith(k.slice(0, -1)))?.[1];
    const type = (headers['content-type'] ?? '').split(';')[0].trim();
    const form = type === FORM_TYPE ? Object.fromEntries(new URLSearchParams(body)) : {};
    let json;
    if (type === 'application/json' && body) {
      try { json = JSON.parse(body); } catch { json = undefined; }
    }
    const basic = /^Basic (.+)$/i.exec(headers.authorization ?? '')?.[1];
    const [id, secret] = basic ? Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent) : [];
    const req = {
      method, path: pathname, query: Object.fromEntries(searchParams), form, json, headers, deny, basic: basic ? { id, secret } : null,
    };
    if (!pathname.startsWith('/__test')) {
      requests.push({
        method, path: pathname, accept: headers.accept ?? null, authorization: headers.authorization?.split(' ')[0] ?? null, params: Object.keys({ ...req.query, ...form }).sort(),
      });
    }
    if (!handler) return { status: 404, json: { error: 'not_found', error_description: `${name} emulator: no route ${key}` } };
    return handler(req);
  }

  server.on('request', async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    let answer;
    try {
      if (path.startsWith('/__test/')) {
        const route = control[`${req.method} ${path}`];
        if (!route) throw Object.assign(new Error(`no control route ${req.method} ${path}`), { status: 404 });
        answer = { status: 200, json: await route(body ? JSON.parse(body) : {}) };
      } else {
        answer = await handle({ method: req.method, url: req.url, headers: req.headers, body });
      }
    } catch (err) {
      answer = { status: err.status ?? 500, json: { error: err.message } };
      if (answer.status === 500) console.error(`${name} emulator ${req.method} ${path}: ${err.stack}`);
    }
    send(res, answer);
  });

  return {
    name,
    base,
    issuer: emulator.issuer ?? base,
    port: server.address().port,
    control: `${base}/__test`,
    settings,
    ...emulator.ready,
    close: () => new Promise((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}

function badRequest(message) {
  return Object.assign(new Error(message), { status: 400 });
}

function send(res, answer) {
  const headers = { 'cache-control': 'no-store', ...(answer.headers ?? {}) };
  if (answer.redirect) {
    res.writeHead(answer.status ?? 302, { ...headers, location: answer.redirect }).end();
  } else if (answer.form) {
    res.writeHead(answer.status ?? 200, { ...headers, 'content-type': `${FORM_TYPE}; charset=utf-8` }).end(new URLSearchParams(answer.form).toString());
  } else if (answer.html !== undefined) {
    res.writeHead(answer.status ?? 200, { ...headers, 'content-type': 'text/html; charset=utf-8' }).end(answer.html);
  } else if (answer.text !== undefined) {
    res.writeHead(answer.status ?? 200, { ...headers, 'content-type': answer.type ?? 'text/plain' }).end(answer.text);
  } else {
    res.writeHead(answer.status ?? 200, { ...headers, 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer.json ?? {}));
  }
}

/** Whether the client asked for JSON (GitHub answers form-encoded otherwise). */
export const wantsJson = (req) => /application\/json/i.test(req.headers.accept ?? '');

/** A simple HTML error page, as the providers show one to the user instead of redirecting. */
export const errorPage = (status, title, detail) => ({ status, html: `<!DOCTYPE html><title>${title}</title><h1>${title}</h1><p class="error">${detail}</p>` });

/**
 * Device codes: issue(clientId, scope, extra) → { deviceCode, userCode }; poll(deviceCode) → 'pending' | 'slow_down' |
 * 'denied' | 'expired' | 'unknown' | the approved record (once). RFC 8628 §3.5's slow_down when polled sooner than
 * the interval (50 ms of slack), which then grows by 5 s.
 */
export function deviceCodes(settings, lifetimeSeconds) {
  const byDevice = new Map();
  const byUser = new Map();
  return {
    issue(record) {
      const entry = {
        ...record, deviceCode: token('', 30), userCode: userCode(), state: 'pending', interval: settings.deviceInterval, lastPoll: undefined, expiresAt: Date.now() + lifetimeSeconds * 1000,
      };
      byDevice.set(entry.deviceCode, entry);
      byUser.set(entry.userCode, entry);
      return entry;
    },
    approve(code, deny) {
      const entry = byUser.get(code);
      if (!entry) return false;
      entry.state = deny ? 'denied' : 'approved';
      return true;
    },
    poll(deviceCode) {
      const entry = byDevice.get(deviceCode);
      if (!entry) return { outcome: 'unknown' };
      if (Date.now() > entry.expiresAt) return { outcome: 'expired', entry };
      const now = performance.now();
      const tooSoon = entry.lastPoll !== undefined && now - entry.lastPoll < entry.interval * 1000 - 50;
      entry.lastPoll = now;
      if (entry.state === 'approved') {
        byDevice.delete(deviceCode);
        return { outcome: 'approved', entry };
      }
      if (entry.state === 'denied') return { outcome: 'denied', entry };
      if (tooSoon) {
        entry.interval += 5;
        return { outcome: 'slow_down', entry };
      }
      return { outcome: 'pending', entry };
    },
  };
}
