// The "headless user": plays an end-user's browser against the provider with plain HTTP(S)
// (http-client.mjs, which trusts the test CA in TLS mode), a tiny cookie jar and regex-read forms
// (no JavaScript), then delivers the authorization response to the client's loopback redirect URI
// itself.
import http from 'node:http';
import https from 'node:https';
import { httpRequest } from './http-client.mjs';

const MAX_STEPS = 30;
const TIMEOUT_MS = 10_000;
const REPLY_LIMIT = 2048; // bytes of the loopback server's reply that are kept
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);
const FORM_TYPE = 'application/x-www-form-urlencoded';

// ---- reading HTML ---------------------------------------------------------------------------

function htmlDecode(text) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (match, ref) => {
    if (ref[0] !== '#') return named[ref.toLowerCase()];
    return String.fromCodePoint(ref[1].toLowerCase() === 'x' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
  });
}

function attributes(tag) {
  const found = {};
  for (const [, name, dq, sq, bare] of tag.matchAll(/([\w:.-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g)) {
    found[name.toLowerCase()] = htmlDecode(dq ?? sq ?? bare ?? '');
  }
  return found;
}

/** A page's forms ({ id, method, action, fields }, action made absolute) and link targets. */
function parsePage(html, pageUrl) {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map(([, tag, inner]) => {
    const form = attributes(tag);
    const fields = {};
    for (const [, input] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const { name, value = '' } = attributes(input);
      if (name) fields[name] = value;
    }
    const action = new URL(form.action || pageUrl, pageUrl).href;
    return { id: form.id, method: (form.method || 'get').toUpperCase(), action, fields };
  });
  const links = [...html.matchAll(/<a\b([^>]*)>/gi)]
    .map(([, tag]) => attributes(tag).href).filter(Boolean).map((href) => new URL(href, pageUrl).href);
  return { forms, links };
}

/** The page's `class="error"` message, or else its whole text, shortened. */
function errorText(html) {
  const error = html.match(/class="error"[^>]*>([\s\S]*?)</);
  const text = error ? error[1] : html.replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ');
  return htmlDecode(text).replace(/\s+/g, ' ').trim().slice(0, 500);
}

const unexpected = (page) => new Error(`unexpected page from the provider (HTTP ${page.status} on `
  + `${page.method} ${page.url}): ${errorText(page.html)}`);

// ---- cookies: name=value per origin and path, as Set-Cookie gave them ------------------------

class CookieJar {
  #cookies = [];

  store(url, setCookieHeaders) {
    const { origin, pathname } = new URL(url);
    for (const header of setCookieHeaders) {
      const [pair, ...attrs] = header.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const defaultPath = pathname.replace(/\/[^/]*$/, '') || '/'; // RFC 6265 §5.1.4
      const cookie = { origin, name: pair.slice(0, eq), value: pair.slice(eq + 1), path: defaultPath };
      let expired = false;
      for (const attr of attrs) {
        const [key, value = ''] = attr.split('=');
        if (/^path$/i.test(key)) cookie.path = value || '/';
        if (/^max-age$/i.test(key)) expired = Number(value) <= 0;
        if (/^expires$/i.test(key)) expired = Date.parse(value) <= Date.now();
      }
      const same = (c) => c.origin === origin && c.name === cookie.name && c.path === cookie.path;
      this.#cookies = this.#cookies.filter((c) => !same(c));
      if (!expired) this.#cookies.push(cookie);
    }
  }

  header(url) {
    const { origin, pathname } = new URL(url);
    const pathMatches = (path) => pathname === path || pathname.startsWith(path.endsWith('/') ? path : `${path}/`);
    return this.#cookies
      .filter((c) => c.origin === origin && pathMatches(c.path))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

// ---- the browser ----------------------------------------------------------------------------

class Browser {
  /** ca: the CA certificate(s) to trust when the provider is on https (TLS mode). */
  constructor(issuer, { login = 'alice', password = `${login}-password`, deny = false }, { ca } = {}) {
    this.origin = new URL(issuer).origin;
    this.user = { login, password, deny: deny === true };
    this.jar = new CookieJar();
    this.ca = ca;
  }

  /** One request to the provider; redirects are not followed. */
  async request({ url, method = 'GET', form }) {
    const headers = { accept: 'text/html' };
    const cookie = this.jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (form) headers['content-type'] = FORM_TYPE;
    const res = await httpRequest(url, {
      method, headers, body: form && new URLSearchParams(form), ca: this.ca, timeoutMs: TIMEOUT_MS,
    });
    this.jar.store(url, res.setCookies);
    const location = res.status >= 300 && res.status < 400 && res.headers.location;
    return {
      url, method, status: res.status, location: location && new URL(location, url).href, html: res.text,
    };
  }

  /**
   * Follows redirects and fills login and consent pages; every other page goes to `onPage`,
   * which answers the next request to make, or `{ done }`. Returns `{ done }`, or `{ leave }`:
   * the first request that would go somewhere other than the provider (the callback).
   */
  async walk(start, onPage) {
    let next = start;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      if (new URL(next.url).origin !== this.origin) return { leave: next };
      const page = await this.request(next);
      if (page.location) {
        next = { url: page.location };
        continue;
      }
      const parsed = parsePage(page.html, page.url);
      const answer = this.interact(next, page, parsed) ?? onPage(page, parsed);
      if (answer.done) return answer;
      next = answer;
    }
    throw new Error(`gave up after ${MAX_STEPS} requests without reaching the end of the flow`);
  }

  /** The devInteractions login and consent pages (undefined for any other page). */
  interact(previous, page, { forms, links }) {
    const { login, password, deny } = this.user;
    if (previous.form?.prompt === 'login') {
      throw new Error(`login as "${login}" was rejected (HTTP ${page.status}): ${errorText(page.html)}`);
    }
    const loginForm = forms.find((form) => form.fields.prompt === 'login');
    if (loginForm) return { url: loginForm.action, method: 'POST', form: { ...loginForm.fields, login, password } };
    const consentForm = forms.find((form) => form.fields.prompt === 'consent');
    if (!consentForm) return undefined;
    if (!deny) return { url: consentForm.action, method: 'POST', form: consentForm.fields };
    // "[ Cancel ]" links to /interaction/:uid/abort, which ends the request with access_denied.
    const abort = links.find((href) => new URL(href).pathname.endsWith('/abort'));
    if (!abort) throw new Error(`the consent page has no abort link: ${errorText(page.html)}`);
    return { url: abort };
  }
}

// ---- delivering the authorization response -------------------------------------------------

/** GET (query) or POST (form_post) to the client's redirect URI; self-signed TLS is accepted on loopback. */
export function deliver({ url, method = 'GET', form }) {
  const target = new URL(url);
  const body = form && new URLSearchParams(form).toString();
  const options = {
    method,
    headers: body ? { 'content-type': FORM_TYPE, 'content-length': Buffer.byteLength(body) } : {},
    timeout: TIMEOUT_MS,
  };
  if (target.protocol === 'https:' && LOOPBACK_HOSTS.has(target.hostname)) options.rejectUnauthorized = false;
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const fail = (err) => reject(new Error(`could not deliver the callback to ${url}: ${err.message}`));
    const req = transport.request(target, options, (res) => {
      const chunks = [];
      let kept = 0;
      res.on('data', (chunk) => {
        if (kept < REPLY_LIMIT) chunks.push(chunk);
        kept += chunk.length;
      });
      res.on('end', () => resolve({
        status: res.statusCode, body: Buffer.concat(chunks).subarray(0, REPLY_LIMIT).toString('utf8'),
      }));
      res.on('error', fail);
    });
    req.on('timeout', () => req.destroy(new Error(`no reply within ${TIMEOUT_MS} ms`)));
    req.on('error', fail);
    req.end(body);
  });
}

// ---- the two flows --------------------------------------------------------------------------

/** Authorization code flow: see POST /__test/authorize in README.md. */
export async function authorize(issuer, { url, deliver: shouldDeliver = true, ...user }, { ca } = {}) {
  const browser = new Browser(issuer, user, { ca });
  const result = await browser.walk({ url }, (page, { forms }) => {
    // response_mode=form_post: an auto-submitting form aimed at the client.
    const post = forms.find((form) => form.method === 'POST' && new URL(form.action).origin !== browser.origin);
    if (post) return { url: post.action, method: 'POST', form: post.fields };
    throw unexpected(page);
  });
  const hop = result.leave;
  if (!hop) throw new Error('the flow ended without a redirect to the client');
  const answer = { callbackUrl: hop.url, responseMode: hop.method === 'POST' ? 'form_post' : 'query' };
  if (hop.method === 'POST') Object.assign(answer, { formAction: hop.url, formParams: hop.form });
  if (shouldDeliver === false) return answer;
  return { ...answer, ...(await deliver(hop)) };
}

/** Device flow, the user's side: see POST /__test/device in README.md. */
export async function approveDevice(issuer, verificationUri, { userCode, ...user }, { ca } = {}) {
  const browser = new Browser(issuer, user, { ca });
  let codeSubmitted = false;
  const result = await browser.walk({ url: verificationUri }, (page, { forms }) => {
    const input = forms.find((form) => form.id === 'op.deviceInputForm');
    const confirm = forms.find((form) => form.id === 'op.deviceConfirmForm');
    if (input && !codeSubmitted) {
      codeSubmitted = true;
      return { url: input.action, method: 'POST', form: { ...input.fields, user_code: userCode } };
    }
    if (confirm) return { url: confirm.action, method: 'POST', form: confirm.fields };
    if (page.html.includes('class="success"')) return { done: { ok: true } };
    // After the consent was aborted, the provider shows the code input page again, with an error.
    if (input && browser.user.deny && /aborted/.test(errorText(page.html))) return { done: { ok: true, denied: true } };
    if (input) throw new Error(`user code "${userCode}" was not accepted: ${errorText(page.html)}`);
    throw unexpected(page);
  });
  if (!result.done) throw new Error(`the device flow unexpectedly left the provider, for ${result.leave.url}`);
  return result.done;
}
