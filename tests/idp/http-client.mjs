// A small HTTP(S) client for the provider's own calls to itself (headless user, control API).
// Unlike fetch() it can trust a given CA, which the TLS mode needs (fixtures/ca.cert.pem).
import http from 'node:http';
import https from 'node:https';

/**
 * One request; redirects are not followed. body: string, Buffer or URLSearchParams (sent as a form).
 * Resolves to { status, headers, setCookies: [...], text }.
 */
export function httpRequest(url, {
  method = 'GET', headers = {}, body, ca, timeoutMs = 10_000,
} = {}) {
  const target = new URL(url);
  const allHeaders = { ...headers };
  let data;
  if (body !== undefined) {
    if (body instanceof URLSearchParams) allHeaders['content-type'] ??= 'application/x-www-form-urlencoded';
    data = Buffer.from(body instanceof Buffer ? body : String(body));
    allHeaders['content-length'] = data.length;
  }
  const options = { method, headers: allHeaders, timeout: timeoutMs };
  if (ca && target.protocol === 'https:') options.ca = ca;
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = transport.request(target, options, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolve({
        status: res.statusCode,
        headers: res.headers,
        setCookies: res.headers['set-cookie'] ?? [],
        text: Buffer.concat(chunks).toString('utf8'),
      }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.origin} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(data);
  });
}
