// startProxy(): a forward HTTP proxy for the sidecar's proxy tests, with request counters and
// fault injection. Node built-ins only. proxy.mjs is the command-line wrapper.
//
// - Absolute-form requests (`GET http://host:port/path HTTP/1.1`) are forwarded to http:// targets.
// - `CONNECT host:port` opens a TCP tunnel (used for https:// targets; the proxy sees no paths).
// - Origin-form requests (`GET /__proxy/stats`) are the proxy's own JSON control API.
// - Faults (POST /__proxy/faults) apply to the next N matching absolute-form requests. Each mode is
//   one entry of FAULT_MODES: how to validate its options and how to answer a request with it.
import http from 'node:http';
import net from 'node:net';

// RFC 9110 §7.6.1: connection-specific headers a proxy must not forward.
const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade',
]);

class BadRequest extends Error {
  status = 400;
}

function endToEndHeaders(headers) {
  const named = new Set(String(headers.connection ?? '').toLowerCase().split(',').map((name) => name.trim()));
  return Object.fromEntries(Object.entries(headers)
    .filter(([name]) => !HOP_BY_HOP.has(name) && !named.has(name)));
}

function sendJson(res, status, body, extraHeaders = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...extraHeaders,
  });
  res.end(text);
}

/** Reads a whole stream into a Buffer. */
async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

// ---- upstream ----------------------------------------------------------------------------------

/**
 * Sends the client's request on to `target` (a URL); resolves to the upstream response (an
 * IncomingMessage), rejects when the upstream cannot be reached.
 */
function forward(req, target) {
  return new Promise((resolve, reject) => {
    const upstream = http.request({
      host: target.hostname.replace(/^\[|\]$/g, ''),
      port: target.port || 80,
      method: req.method,
      path: `${target.pathname}${target.search}`,
      headers: endToEndHeaders(req.headers),
      agent: false,
    }, resolve);
    upstream.on('error', reject);
    req.pipe(upstream);
  });
}

/** Passes an upstream response through to the client. */
function relay(upstreamRes, res) {
  res.writeHead(upstreamRes.statusCode, upstreamRes.statusMessage, endToEndHeaders(upstreamRes.headers));
  upstreamRes.pipe(res);
}

/** HTTP 502 for an upstream that cannot be reached. */
const unreachable = (res, target, err) => sendJson(res, 502, {
  error: `the test proxy could not reach ${target.host}: ${err.code ?? err.message}`,
});

/** Forwards and relays, answering 502 when the upstream cannot be reached. */
async function proxyNormally(req, res, target) {
  let upstreamRes;
  try {
    upstreamRes = await forward(req, target);
  } catch (err) {
    unreachable(res, target, err);
    return;
  }
  relay(upstreamRes, res);
}

// ---- fault modes -------------------------------------------------------------------------------

const isInt = (min, max = Number.MAX_SAFE_INTEGER) => (v) => Number.isInteger(v) && v >= min && v <= max;
const isText = (v) => typeof v === 'string';

/** Sends a made-up answer; the request is drained and never reaches the upstream. */
function answer(req, res, { status, contentType, body, retryAfter }) {
  req.resume();
  const headers = { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
  if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Each mode: `options` (name -> [check, description, default]) and `apply(req, res, target, fault)`.
 * To add a mode, add an entry here and a line to the README.
 */
export const FAULT_MODES = {
  // A made-up error answer, e.g. 503 with Retry-After.
  status: {
    options: {
      status: [isInt(100, 599), 'an HTTP status code', 503],
      retryAfter: [(v) => isInt(0)(v) || isText(v), 'seconds (integer) or an HTTP date', undefined],
      body: [isText, 'a string', JSON.stringify({ error: 'temporarily_unavailable', error_description: 'fault injected by the test proxy' })],
      contentType: [isText, 'a string', 'application/json'],
    },
    apply: (req, res, target, fault) => answer(req, res, fault),
  },
  // A made-up answer with any body and content type (non-JSON, wrong content type...).
  body: {
    options: {
      status: [isInt(100, 599), 'an HTTP status code', 200],
      body: [isText, 'a string', ''],
      contentType: [isText, 'a string', 'text/plain; charset=utf-8'],
    },
    apply: (req, res, target, fault) => answer(req, res, fault),
  },
  // The TCP connection is reset: mid-response (after the upstream's status, headers and half of
  // its body) by default, or at:"request", at once without contacting the upstream.
  reset: {
    options: { at: [(v) => v === 'response' || v === 'request', '"response" or "request"', 'response'] },
    apply: async (req, res, target, fault) => {
      if (fault.at === 'request') {
        req.socket.resetAndDestroy();
        return;
      }
      let upstreamRes;
      try {
        upstreamRes = await forward(req, target);
      } catch {
        req.socket.resetAndDestroy();
        return;
      }
      const body = await readAll(upstreamRes);
      res.writeHead(upstreamRes.statusCode, endToEndHeaders({ ...upstreamRes.headers, 'content-length': body.length }));
      res.flushHeaders();
      // The reset follows 100 ms later, so that the client has read what was sent before it:
      // an RST may make the receiving kernel drop data not yet read.
      const reset = () => setTimeout(() => res.socket?.resetAndDestroy(), 100);
      const half = body.subarray(0, Math.floor(body.length / 2));
      if (half.length) res.write(half, reset);
      else reset();
    },
  },
  // Waits `ms` before forwarding (a client that gives up first is never forwarded).
  delay: {
    options: { ms: [isInt(0), 'milliseconds (integer >= 0)', 1000] },
    apply: async (req, res, target, fault) => {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, fault.ms);
        res.once('close', () => { clearTimeout(timer); resolve(); });
      });
      if (res.destroyed || res.writableEnded) return;
      await proxyNormally(req, res, target);
    },
  },
  // The upstream's answer with only the first half of its body (a complete, well-formed HTTP
  // response whose Content-Length is the half: truncated JSON).
  truncate: {
    options: {},
    apply: async (req, res, target) => {
      let upstreamRes;
      try {
        upstreamRes = await forward(req, target);
      } catch (err) {
        unreachable(res, target, err);
        return;
      }
      const full = await readAll(upstreamRes);
      const body = full.subarray(0, Math.floor(full.length / 2));
      res.writeHead(upstreamRes.statusCode, endToEndHeaders({ ...upstreamRes.headers, 'content-length': body.length }));
      res.end(body);
    },
  },
  // A 200 answer of `bytes` bytes (valid JSON when bytes >= 14: {"padding":"aaa..."}), streamed.
  huge: {
    options: {
      bytes: [isInt(0), 'a size in bytes (integer >= 0)', 10 * 1024 * 1024],
      contentType: [isText, 'a string', 'application/json'],
    },
    apply: async (req, res, target, { bytes, contentType }) => {
      req.resume();
      const [head, tail] = bytes >= 14 ? ['{"padding":"', '"}'] : ['', ''];
      res.writeHead(200, { 'content-type': contentType, 'content-length': bytes, 'cache-control': 'no-store' });
      res.write(head);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let left = bytes - head.length - tail.length;
      while (left > 0 && !res.destroyed) {
        const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
        left -= piece.length;
        if (!res.write(piece)) await new Promise((resolve) => { res.once('drain', resolve); res.once('close', resolve); });
      }
      res.end(tail);
    },
  },
};

/** A fault as POSTed, checked and with its defaults filled in. */
function parseFault(body) {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('a fault must be a JSON object');
  const mode = FAULT_MODES[body.mode];
  if (!mode) throw new BadRequest(`"mode" must be one of ${Object.keys(FAULT_MODES).map((m) => `"${m}"`).join(', ')}`);
  const fault = { mode: body.mode, count: 1 };
  const common = { count: [isInt(1), 'an integer >= 1'], path: [(v) => isText(v) && v !== '', 'a non-empty string'] };
  for (const [name, value] of Object.entries(body)) {
    if (name === 'mode') continue;
    const rule = common[name] ?? mode.options[name];
    if (!rule) {
      const known = ['mode', ...Object.keys(common), ...Object.keys(mode.options)];
      throw new BadRequest(`unknown option "${name}" for mode "${body.mode}"; known: ${known.join(', ')}`);
    }
    if (!rule[0](value)) throw new BadRequest(`"${name}" must be ${rule[1]}`);
    fault[name] = value;
  }
  for (const [name, [, , fallback]] of Object.entries(mode.options)) {
    if (fault[name] === undefined && fallback !== undefined) fault[name] = fallback;
  }
  return fault;
}

// ---- the server --------------------------------------------------------------------------------

function createCounters() {
  let counts;
  return {
    reset() {
      counts = { requests: 0, byHost: {}, connect: 0 };
      return this.snapshot();
    },
    snapshot: () => structuredClone(counts),
    request(host) {
      counts.requests += 1;
      counts.byHost[host] = (counts.byHost[host] ?? 0) + 1;
    },
    connect(host) {
      counts.connect += 1;
      counts.byHost[host] = (counts.byHost[host] ?? 0) + 1;
    },
  };
}

/**
 * Starts the proxy on 127.0.0.1 (port 0 = any free port). Resolves to
 * { url: "http://127.0.0.1:PORT", port, stats, faults, close() }.
 */
export async function startProxy({ port = 0 } = {}) {
  const stats = createCounters();
  stats.reset();
  let faults = []; // pending faults, in the order they were added
  const tunnels = new Set();
  let self; // "127.0.0.1:PORT"

  const takeFault = (target) => {
    const where = `${target.pathname}${target.search}`;
    const fault = faults.find((f) => f.path === undefined || where.includes(f.path));
    if (!fault) return undefined;
    fault.count -= 1;
    if (fault.count === 0) faults = faults.filter((f) => f !== fault);
    return fault;
  };

  const controlRoutes = {
    'GET /__proxy/stats': () => stats.snapshot(),
    'POST /__proxy/stats/reset': () => stats.reset(),
    'GET /__proxy/faults': () => ({ faults: structuredClone(faults) }),
    'POST /__proxy/faults': (body) => {
      faults.push(parseFault(body));
      return { faults: structuredClone(faults) };
    },
    'POST /__proxy/faults/reset': () => {
      faults = [];
      return { faults: [] };
    },
  };

  async function control(req, res, pathname) {
    const route = controlRoutes[`${req.method} ${pathname}`];
    try {
      if (!route) throw Object.assign(new Error(`no proxy control route ${req.method} ${pathname}`), { status: 404 });
      const text = (await readAll(req)).toString('utf8').trim();
      let body = {};
      if (text) {
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new BadRequest(`the request body is not JSON: ${err.message}`);
        }
      }
      sendJson(res, 200, route(body));
    } catch (err) {
      sendJson(res, err.status ?? 500, { error: err.message });
    }
  }

  async function handleRequest(req, res) {
    if (req.url.startsWith('/')) {
      const { pathname } = new URL(req.url, 'http://proxy');
      if (pathname.startsWith('/__proxy/')) return control(req, res, pathname);
      req.resume();
      return sendJson(res, 400, { error: 'this is a forward proxy: send absolute-form requests (GET http://host/path) or CONNECT host:port' });
    }
    let target;
    try {
      target = new URL(req.url);
    } catch {
      req.resume();
      return sendJson(res, 400, { error: `not an absolute URL: ${req.url}` });
    }
    if (target.protocol !== 'http:') {
      req.resume();
      return sendJson(res, 400, { error: `only http:// targets are forwarded; use CONNECT for ${target.protocol}` });
    }
    const host = `${target.hostname}:${target.port || 80}`;
    // A client that sends everything through the proxy may address the proxy's own control API.
    if (host === self && target.pathname.startsWith('/__proxy/')) return control(req, res, target.pathname);

    stats.request(host);
    const fault = takeFault(target);
    try {
      if (fault) await FAULT_MODES[fault.mode].apply(req, res, target, fault);
      else await proxyNormally(req, res, target);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 502, { error: `test proxy: ${err.message}` });
      else res.destroy();
    }
    return undefined;
  }

  function handleConnect(req, clientSocket, head) {
    const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url);
    if (!match) {
      clientSocket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      return;
    }
    stats.connect(req.url);
    tunnels.add(clientSocket);
    const upstream = net.connect(Number(match[2]), match[1].replace(/^\[|\]$/g, ''));
    tunnels.add(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    upstream.on('error', (err) => {
      if (connected) {
        clientSocket.destroy();
        return;
      }
      const text = JSON.stringify({ error: `the test proxy could not reach ${req.url}: ${err.code ?? err.message}` });
      clientSocket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    });
    clientSocket.on('error', () => upstream.destroy());
    const forget = () => {
      tunnels.delete(clientSocket);
      tunnels.delete(upstream);
    };
    clientSocket.on('close', () => { upstream.destroy(); forget(); });
    upstream.on('close', () => { clientSocket.destroy(); forget(); });
  }

  const server = http.createServer((req, res) => { handleRequest(req, res); });
  server.on('connect', handleConnect);
  server.on('clientError', (err, socket) => socket.destroy());
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  self = `127.0.0.1:${server.address().port}`;

  return {
    url: `http://${self}`,
    port: server.address().port,
    stats,
    faults: () => structuredClone(faults),
    close: () => new Promise((resolve) => {
      for (const socket of tunnels) socket.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
