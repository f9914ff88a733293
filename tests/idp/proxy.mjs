// Command line: node tests/idp/proxy.mjs [--port N] [--ignore-stdin]
// A forward HTTP proxy (absolute-form requests and CONNECT tunnels) with counters and fault
// injection; see forward-proxy.mjs and README.md. Prints ONE JSON line on stdout once listening:
// {"proxy":"http://127.0.0.1:PORT"}. Exits on SIGTERM/SIGINT and when stdin reaches end-of-file,
// unless --ignore-stdin is given. Bad options: exit code 2. Many proxies in one process: pool.mjs.
import { ArgsError, startProxyFromArgs, stopWith } from './launch.mjs';

console.log = console.error; // keep stdout for the one JSON line

const { instance: proxy, ready, args } = await startProxyFromArgs(process.argv.slice(2)).catch((err) => {
  console.error(`test-proxy: ${err instanceof ArgsError ? err.message : `could not start: ${err.message}`}`);
  process.exit(2);
});

stopWith('test-proxy', () => proxy.close(), { ignoreStdin: args['ignore-stdin'] === true });

// Announce only once the handlers are in place: a parent may send SIGTERM as soon as it reads the line.
process.stdout.write(`${JSON.stringify(ready)}\n`);
console.error(`test-proxy: listening on ${proxy.url}`);
