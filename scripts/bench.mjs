#!/usr/bin/env node
// npm run bench [-- --quick] [-- --micro] [-- --only round-trip,scale] [-- --write docs/PERFORMANCE.md]
//
// Runs the process-level benchmark harness (tests/OAuthSidecar.Benchmarks): the NativeAOT sidecar over
// real pipes beside its peers in the same run (a Node vscode-jsonrpc echo server, MSAL's oauth2cli
// from Debian's python3-msal) against the bundled provider, and prints every figure with its goal,
// the peer's figure and the ratio. --micro also runs the BenchmarkDotNet micro-benchmarks (PKCE,
// parsing, routing a callback). The NativeAOT executable is published first when it is missing or
// older than the sources.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AOT_PATH, ROOT, ensureNodeModules, isOutOfDate, parseFlags, relative, run } from './lib.mjs';

let flags;
try {
  flags = parseFlags(process.argv.slice(2), { booleans: ['quick', 'micro', 'help'], strings: ['write', 'only'] });
} catch (err) {
  console.error(`bench: ${err.message}`);
  process.exit(2);
}
if (flags.help) {
  console.log('Usage: npm run bench [-- --quick] [-- --micro] [-- --write docs/PERFORMANCE.md]');
  process.exit(0);
}

async function main() {
  await ensureNodeModules({ quiet: true });
  if (!process.env.OAUTH_SIDECAR_PATH && (!existsSync(AOT_PATH) || isOutOfDate(AOT_PATH))) {
    console.error(`${relative(AOT_PATH)} is missing or older than the sources: npm run build first.`);
    const built = await run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { echo: true });
    if (built.code !== 0) return built.code;
    if (!existsSync(AOT_PATH)) {
      console.error('The benchmarks measure the NativeAOT executable, and it could not be published here (see above).');
      return 1;
    }
  }
  const args = ['run', '-c', 'Release', '--project', join(ROOT, 'tests', 'OAuthSidecar.Benchmarks'), '--', flags.micro ? 'all' : 'process'];
  if (flags.quick) args.push('--quick');
  if (flags.write) args.push('--write', flags.write);
  if (flags.only) args.push('--only', flags.only);
  const result = await run('dotnet', args, { echo: true });
  return result.code;
}

main().then(
  (code) => process.exit(code ?? 1),
  (err) => {
    console.error(`bench: ${err.message}`);
    process.exit(1);
  },
);
