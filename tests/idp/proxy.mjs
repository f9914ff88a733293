// Command line: node tests/idp/proxy.mjs [--port N] [--ignore-stdin]
// A forward HTTP proxy (absolute-form requests and CONNECT tunnels) with counters and fault
// injection; see forward-proxy.mjs and README.md. Prints ONE JSON line on stdout once listening:
// {"proxy":"http://127.0.0.1:PORT"}. Exits on SIGTERM/SIGINT and when stdin reaches end-of-file,
// unless --ignore-stdin is given. Bad options: exit code 2.
import { parseArgs } from 'node:util';
import { startProxy } from './forward-proxy.mjs';

console.log = console.error; // keep stdout for the one JSON line

function fail(message) {
  console.error(`test-proxy: ${message}`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({ options: { port: { type: 'string' }, 'ignore-stdin': { type: 'boolean' } } }));
} catch (err) {
  fail(err.message);
}
if (args.port !== undefined && (!/^\d+$/.test(args.port) || Number(args.port) > 65535)) {
  fail(`--port needs an integer from 0 to 65535, not "${args.port}"`);
}

const proxy = await startProxy({ port: Number(args.port ?? 0) }).catch((err) => fail(`could not start: ${err.message}`));

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.error(`test-proxy: stopping (${reason})`);
  setTimeout(() => process.exit(0), 2000).unref(); // in case close() hangs
  proxy.close().then(() => process.exit(0));
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
if (!args['ignore-stdin']) {
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

// Announce only once the handlers are in place: a parent may send SIGTERM as soon as it reads the line.
process.stdout.write(`${JSON.stringify({ proxy: proxy.url })}\n`);
console.error(`test-proxy: listening on ${proxy.url}`);
