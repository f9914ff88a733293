import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { startProxy } from '../forward-proxy.mjs';
import { fixture } from '../fixtures.mjs';

const PROXY_CLI = fileURLToPath(new URL('../proxy.mjs', import.meta.url));

// ---- an upstream to proxy to, and a client that speaks to proxies ------------------------------

const UPSTREAM_JSON = JSON.stringify({ access_token: 'abc', token_type: 'Bearer', expires_in: 3600 });
let upstream;
let upstreamHost;
let proxy;
const seen = []; // requests the upstream received

before(async () => {
  upstream = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() });
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
    res.end(req.url === '/echo' ? JSON.stringify(seen.at(-1)) : UPSTREAM_JSON);
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamHost = `127.0.0.1:${upstream.address().port}`;
  proxy = await startProxy();
});
after(async () => {
  await proxy.close();
  await new Promise((resolve) => { upstream.close(resolve); upstream.closeAllConnections(); });
});

/** An absolute-form request through the proxy -> { status, headers, body: Buffer, text }. */
function viaProxy(path, { method = 'GET', headers = {}, body, host = upstreamHost } = {}) {
  return new Promise((resolve, reject) => {
    let status; // set once the status line has arrived
    const chunks = [];
    // A connection that broke off: the error says what had arrived.
    const fail = (err) => reject(Object.assign(err, { status, partial: Buffer.concat(chunks) }));
    const req = http.request({
      host: '127.0.0.1', port: proxy.port, method, path: `http://${host}${path}`, headers: { host, ...headers }, agent: false,
    }, (res) => {
      status = res.statusCode;
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const all = Buffer.concat(chunks);
        resolve({ status, headers: res.headers, body: all, text: all.toString() });
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(body);
  });
}

/** A request to the proxy's own control API (origin-form). */
async function proxyControl(method, path, body) {
  const res = await fetch(`${proxy.url}${path}`, {
    method, headers: body ? { 'content-type': 'application/json' } : {}, body: body && JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}
const addFault = (fault) => proxyControl('POST', '/__proxy/faults', fault);

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// ---- the command line --------------------------------------------------------------------------

test('proxy.mjs prints one JSON line, answers /__proxy/stats, exits on stdin EOF and on SIGTERM', async () => {
  const start = () => {
    const child = spawn(process.execPath, [PROXY_CLI], { stdio: ['pipe', 'pipe', 'ignore'] });
    const lines = createInterface({ input: child.stdout });
    return { child, lines, line: once(lines, 'line').then(([line]) => JSON.parse(line)) };
  };
  const first = start();
  const ready = await first.line;
  const extra = [];
  first.lines.on('line', (line) => extra.push(line));
  assert.deepEqual(Object.keys(ready), ['proxy']);
  assert.match(ready.proxy, /^http:\/\/127\.0\.0\.1:\d+$/);
  const stats = await (await fetch(`${ready.proxy}/__proxy/stats`)).json();
  assert.deepEqual(stats, { requests: 0, byHost: {}, connect: 0 });
  first.child.stdin.end();
  assert.deepEqual(await once(first.child, 'exit'), [0, null]);
  assert.deepEqual(extra, []);

  const second = start();
  await second.line;
  second.child.kill('SIGTERM');
  assert.equal((await once(second.child, 'exit'))[0], 0);

  const bad = spawn(process.execPath, [PROXY_CLI, '--port', 'x'], { stdio: 'ignore' });
  assert.equal((await once(bad, 'exit'))[0], 2);
});

// ---- forwarding and counting -------------------------------------------------------------------

test('absolute-form requests are forwarded, without hop-by-hop headers, and counted by host', async () => {
  await proxyControl('POST', '/__proxy/stats/reset');
  const got = await viaProxy('/token?x=1');
  assert.equal(got.status, 200);
  assert.equal(got.text, UPSTREAM_JSON);
  assert.equal(got.headers['x-upstream'], 'yes');
  assert.equal(seen.at(-1).url, '/token?x=1', 'origin-form upstream');

  const posted = await viaProxy('/echo', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'proxy-authorization': 'Basic x', 'proxy-connection': 'keep-alive' },
    body: 'grant_type=client_credentials',
  });
  const echo = JSON.parse(posted.text);
  assert.equal(echo.method, 'POST');
  assert.equal(echo.body, 'grant_type=client_credentials');
  assert.equal(echo.headers.host, upstreamHost);
  assert.equal(echo.headers['proxy-authorization'], undefined);
  assert.equal(echo.headers['proxy-connection'], undefined);

  const { json } = await proxyControl('GET', '/__proxy/stats');
  assert.deepEqual(json, { requests: 2, byHost: { [upstreamHost]: 2 }, connect: 0 });
  const reset = await proxyControl('POST', '/__proxy/stats/reset');
  assert.deepEqual(reset.json, { requests: 0, byHost: {}, connect: 0 });
});

test('an unreachable upstream is HTTP 502 with a JSON error', async () => {
  const port = await freePort();
  const answer = await viaProxy('/token', { host: `127.0.0.1:${port}` });
  assert.equal(answer.status, 502);
  assert.match(JSON.parse(answer.text).error, /ECONNREFUSED/);
});

test('CONNECT tunnels to an https server (certificate checked end to end) and is counted', async () => {
  const server = https.createServer({ key: fixture('server.key.pem'), cert: fixture('server.cert.pem') }, (req, res) => res.end('over tls'));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const target = `127.0.0.1:${server.address().port}`;
  try {
    await proxyControl('POST', '/__proxy/stats/reset');
    const text = await new Promise((resolve, reject) => {
      const connect = http.request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: target, agent: false });
      connect.on('connect', (res, socket) => {
        assert.equal(res.statusCode, 200);
        https.get(`https://${target}/hello`, {
          // No agent: the request goes over this connection, the tunnel.
          createConnection: () => tls.connect({ socket, ca: fixture('ca.cert.pem'), servername: 'localhost' }),
        }, (answer) => {
          let body = '';
          answer.on('data', (chunk) => { body += chunk; });
          answer.on('end', () => resolve(body));
        }).on('error', reject);
      });
      connect.on('error', reject);
      connect.end();
    });
    assert.equal(text, 'over tls');
    assert.deepEqual((await proxyControl('GET', '/__proxy/stats')).json, { requests: 0, byHost: { [target]: 1 }, connect: 1 });

    const refused = await new Promise((resolve, reject) => {
      freePort().then((port) => {
        const connect = http.request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: `127.0.0.1:${port}`, agent: false });
        connect.on('connect', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
        connect.on('response', (res) => { res.resume(); resolve(res.statusCode); });
        connect.on('error', reject);
        connect.end();
      });
    });
    assert.equal(refused, 502);
  } finally {
    await new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); });
  }
});

// ---- faults ------------------------------------------------------------------------------------

test('fault "status": 503 with Retry-After on the next matching request only', async () => {
  const added = await addFault({
    mode: 'status', status: 503, retryAfter: 1, body: '{"error":"temporarily_unavailable"}', count: 1, path: '/token',
  });
  assert.equal(added.status, 200);
  assert.deepEqual(added.json.faults, [{
    mode: 'status', count: 1, status: 503, retryAfter: 1, body: '{"error":"temporarily_unavailable"}', path: '/token', contentType: 'application/json',
  }]);
  const before = seen.length;
  assert.equal((await viaProxy('/other')).status, 200, 'path does not match');
  const faulted = await viaProxy('/token');
  assert.equal(faulted.status, 503);
  assert.equal(faulted.headers['retry-after'], '1');
  assert.equal(faulted.headers['content-type'], 'application/json');
  assert.equal(faulted.text, '{"error":"temporarily_unavailable"}');
  assert.equal(seen.length, before + 1, 'the faulted request never reached the upstream');
  assert.equal((await viaProxy('/token')).status, 200, 'used up');
  assert.deepEqual((await proxyControl('GET', '/__proxy/faults')).json, { faults: [] });

  await addFault({ mode: 'status', count: 2 });
  assert.equal((await viaProxy('/a')).status, 503);
  const second = await viaProxy('/b');
  assert.equal(second.status, 503);
  assert.equal(JSON.parse(second.text).error, 'temporarily_unavailable');
  assert.equal((await viaProxy('/c')).status, 200);
});

test('fault "reset": the connection is reset mid-response, or at once with at:"request"', async () => {
  await addFault({ mode: 'reset', path: '/token' });
  const midResponse = await viaProxy('/token').then(() => assert.fail('no reset'), (err) => err);
  assert.equal(midResponse.code, 'ECONNRESET');
  assert.equal(midResponse.status, 200, 'the status line and headers came through');
  assert.ok(midResponse.partial.length < UPSTREAM_JSON.length, 'not the whole body');
  await addFault({ mode: 'reset', at: 'request' });
  const before = seen.length;
  await assert.rejects(viaProxy('/token'), (err) => ['ECONNRESET', 'ECONNREFUSED'].includes(err.code) || /socket hang up/.test(err.message));
  assert.equal(seen.length, before, 'not forwarded');
  assert.equal((await viaProxy('/token')).status, 200);
});

test('fault "delay": the answer comes after ms', async () => {
  await addFault({ mode: 'delay', ms: 300 });
  const started = performance.now();
  const answer = await viaProxy('/token');
  assert.equal(answer.status, 200);
  assert.equal(answer.text, UPSTREAM_JSON);
  assert.ok(performance.now() - started >= 290, 'delayed');
});

test('fault "body": another content type and body', async () => {
  await addFault({ mode: 'body', contentType: 'text/html', body: '<html>oops</html>' });
  const answer = await viaProxy('/token');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['content-type'], 'text/html');
  assert.equal(answer.text, '<html>oops</html>');
});

test('fault "truncate": half of the upstream body, as a complete response', async () => {
  await addFault({ mode: 'truncate' });
  const answer = await viaProxy('/token');
  assert.equal(answer.status, 200);
  assert.equal(answer.headers['content-type'], 'application/json');
  assert.equal(answer.text, UPSTREAM_JSON.slice(0, Math.floor(UPSTREAM_JSON.length / 2)));
  assert.equal(Number(answer.headers['content-length']), answer.body.length);
  assert.throws(() => JSON.parse(answer.text), SyntaxError);
});

test('fault "huge": a 10 MiB body', async () => {
  await addFault({ mode: 'huge', bytes: 10485760 });
  const answer = await viaProxy('/token');
  assert.equal(answer.status, 200);
  assert.equal(answer.body.length, 10485760);
  assert.equal(Number(answer.headers['content-length']), 10485760);
  assert.equal(JSON.parse(answer.text).padding.length, 10485760 - 14);
});

test('faults: bad ones are 400, the list can be read and cleared; other routes', async () => {
  for (const bad of [{}, { mode: 'explode' }, { mode: 'status', status: 1000 }, { mode: 'delay', ms: -1 }, { mode: 'huge', bytez: 1 }, { mode: 'status', count: 0 }]) {
    const answer = await addFault(bad);
    assert.equal(answer.status, 400, JSON.stringify(bad));
    assert.equal(typeof answer.json.error, 'string');
  }
  await addFault({ mode: 'delay', ms: 5, path: '/never' });
  assert.equal((await proxyControl('GET', '/__proxy/faults')).json.faults.length, 1);
  assert.deepEqual((await proxyControl('POST', '/__proxy/faults/reset')).json, { faults: [] });
  assert.equal((await proxyControl('GET', '/__proxy/nothing')).status, 404);
  assert.equal((await fetch(`${proxy.url}/token`)).status, 400, 'origin-form is not proxied');
  // A client that sends everything through the proxy can still reach its control API.
  const selfAddressed = await viaProxy('/__proxy/stats', { host: `127.0.0.1:${proxy.port}` });
  assert.equal(selfAddressed.status, 200);
  assert.deepEqual(Object.keys(JSON.parse(selfAddressed.text)), ['requests', 'byHost', 'connect']);
});
