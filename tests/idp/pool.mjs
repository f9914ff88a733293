// Command line: node tests/idp/pool.mjs [--ignore-stdin]
// Many test providers, emulators and forward proxies in ONE process, each started on request: a test suite that
// wants a fresh provider per test pays Node's start-up and oidc-provider's module loading (~0.7 s of CPU) once
// instead of once per test. Each instance is the same as one server.mjs or proxy.mjs would start (the same
// options, launch.mjs), on its own port, with its own state, keys and control API.
//
// Prints ONE JSON line on stdout once listening: {"pool":"http://127.0.0.1:PORT"}. Its API (JSON bodies):
//   POST   /idp             {"args":["--dpop","--device-interval","1"]}  → 200 {"id":N, ...server.mjs's line}
//   POST   /proxy           {"args":[]}                                   → 200 {"id":N, "proxy":"http://127.0.0.1:P"}
//   DELETE /instances/N      → 200 {"closed":N}; 404 when there is no instance N
//   GET    /instances        → 200 {"instances":[{"id":N,"kind":"idp"|"proxy","url":...}]}
// Bad options are 400 {"error":"..."}; an instance that cannot start is 500 {"error":"..."}. Everything else goes
// to stderr. Exits (closing every instance) on SIGTERM/SIGINT and when stdin reaches end-of-file, unless
// --ignore-stdin is given.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { setStorage } from 'oidc-provider/lib/adapters/memory_adapter.js';
import { ArgsError, startIdpFromArgs, startProxyFromArgs, stopWith } from './launch.mjs';

// oidc-provider prints notices with console.info; keep stdout for the one JSON line.
console.log = console.error;
console.info = console.error;

let options;
try {
  ({ values: options } = parseArgs({ options: { 'ignore-stdin': { type: 'boolean' } } }));
} catch (err) {
  console.error(`test-idp-pool: ${err.message}`);
  process.exit(2);
}

// oidc-provider's in-memory adapter keeps one store per process, an LRU of 1,000 entries: enough for one provider,
// not for the sign-ins of every test of a run at once (a grant another test still holds would be evicted). A Map
// keeps everything until the pool exits; ids are random, so the providers never see each other's entries.
setStorage(new Map());

const instances = new Map(); // id → { kind, url, instance }
let nextId = 1;
const STARTERS = { idp: startIdpFromArgs, proxy: startProxyFromArgs };
const BODY_LIMIT = 64 * 1024;

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > BODY_LIMIT) throw new ArgsError('the request body is over 64 KiB');
  }
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ArgsError('the request body is not JSON');
  }
}

async function handle(req, res) {
  const { pathname } = new URL(req.url, 'http://pool');
  const kind = pathname.slice(1);
  if (req.method === 'POST' && STARTERS[kind]) {
    const body = await readJson(req);
    const args = body.args ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) throw new ArgsError('"args" must be an array of strings');
    const { instance, ready } = await STARTERS[kind](args);
    const id = nextId++;
    instances.set(id, { kind, url: ready.issuer ?? ready.proxy, instance });
    console.error(`test-idp-pool: ${kind} ${id} listening on ${ready.issuer ?? ready.proxy} (${args.join(' ') || 'no options'})`);
    return reply(res, 200, { id, ...ready });
  }
  const match = /^\/instances\/(\d+)$/.exec(pathname);
  if (req.method === 'DELETE' && match) {
    const id = Number(match[1]);
    const entry = instances.get(id);
    if (!entry) return reply(res, 404, { error: `there is no instance ${id}` });
    instances.delete(id);
    await entry.instance.close();
    return reply(res, 200, { closed: id });
  }
  if (req.method === 'GET' && pathname === '/instances') {
    return reply(res, 200, { instances: [...instances].map(([id, e]) => ({ id, kind: e.kind, url: e.url })) });
  }
  return reply(res, 404, { error: `no route ${req.method} ${pathname}` });
}

const server = createServer((req, res) => {
  handle(req, res).catch((err) => {
    if (!res.headersSent) reply(res, err instanceof ArgsError ? 400 : 500, { error: err.message });
    else res.destroy();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}`;

stopWith('test-idp-pool', async () => {
  server.close();
  server.closeAllConnections();
  await Promise.allSettled([...instances.values()].map((e) => e.instance.close()));
}, { ignoreStdin: options['ignore-stdin'] === true });

// Announce only once the handlers are in place: a parent may send SIGTERM as soon as it reads the line.
process.stdout.write(`${JSON.stringify({ pool: url })}\n`);
console.error(`test-idp-pool: listening on ${url}`);
