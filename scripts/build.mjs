#!/usr/bin/env node
// npm run build [-- --jit] [-- --config Release|Debug]
//
// Builds OAuthSidecar.sln in Release (src/OAuthSidecar/bin/Release/net10.0/oauth-sidecar.dll), then
// publishes the NativeAOT executable, the shipped build, to artifacts/aot/oauth-sidecar. NativeAOT
// needs clang and zlib (Debian: apt-get install clang zlib1g-dev); when they are missing this says
// so, keeps the Release (JIT) build as the fallback and still exits 0. --jit skips the publish.
// (--aot, the former opt-in, is accepted and changes nothing.)
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AOT_DIR, AOT_PATH, SIDECAR_PROJECT, aotBlocker, buildDotnet, isOutOfDate, parseFlags, publishAot, relative, runtimeIdentifier,
} from './lib.mjs';

let flags;
try {
  flags = parseFlags(process.argv.slice(2), { booleans: ['aot', 'jit', 'help'], strings: ['config'] });
} catch (err) {
  console.error(`build: ${err.message}`);
  process.exit(2);
}
if (flags.help) {
  console.log('Usage: npm run build [-- --jit] [-- --config Release|Debug]\n  Builds the solution, then publishes NativeAOT to artifacts/aot/ (the JIT build is the fallback); --jit skips the publish.');
  process.exit(0);
}

async function main() {
  const config = flags.config ?? 'Release';
  const started = Date.now();
  console.log(`Building OAuthSidecar.sln (${config})...`);
  await buildDotnet(config);
  console.log(`Built ${relative(join(SIDECAR_PROJECT, 'bin', config, 'net10.0', 'oauth-sidecar.dll'))} in ${seconds(started)}.`);
  if (flags.jit) return 0;

  const blocker = aotBlocker();
  const rid = runtimeIdentifier();
  if (blocker) {
    console.log(`\nSkipping the NativeAOT publish: ${blocker}`);
    console.log(`The JIT build is ready instead: dotnet ${relative(join(SIDECAR_PROJECT, 'bin', config, 'net10.0', 'oauth-sidecar.dll'))}`);
    if (existsSync(AOT_PATH)) {
      console.log(`(${relative(AOT_PATH)} from an earlier publish is left as it is${isOutOfDate(AOT_PATH) ? ', and it is older than the sources' : ''}; the demo prefers it unless you delete it.)`);
    }
    return 0;
  }

  const aotStarted = Date.now();
  console.log(`\nPublishing NativeAOT (${rid}) to ${relative(AOT_DIR)} (about a minute)...`);
  try {
    await publishAot();
  } catch (err) {
    console.error(`\nThe NativeAOT publish failed: ${err.message}`);
    return 1;
  }
  const size = statSync(AOT_PATH).size;
  const extras = readdirSync(AOT_DIR).filter((f) => !/^oauth-sidecar(\.exe)?$/.test(f) && !f.endsWith('.dbg') && !f.endsWith('.pdb'));
  console.log(`Published ${relative(AOT_PATH)} (${(size / 1024 / 1024).toFixed(1)} MB) in ${seconds(aotStarted)}.${extras.length ? ` Also in the folder: ${extras.join(', ')}.` : ''}`);
  return 0;
}

function seconds(since) {
  return `${Math.round((Date.now() - since) / 1000)} s`;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`\nBuild failed: ${err.message}`);
    process.exit(1);
  },
);
