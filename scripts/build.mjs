#!/usr/bin/env node
// npm run build [-- --jit] [-- --config Release|Debug]
//
// Builds OAuthSidecar.sln in Release (src/OAuthSidecar/bin/Release/net10.0/oauth-sidecar.dll), then
// publishes the NativeAOT executable, the shipped build, to artifacts/aot/oauth-sidecar. NativeAOT
// needs clang and zlib (Debian: apt-get install clang zlib1g-dev); when they are missing this says
// so, keeps the Release (JIT) build as the fallback and still exits 0. --jit skips the publish.
// (--aot, the former opt-in, is accepted and changes nothing.)
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AOT_DIR, AOT_PATH, SIDECAR_PROJECT, buildDotnet, hasCommand, isOutOfDate, parseFlags, relative, run,
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

function runtimeIdentifier() {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!os || !arch) return undefined;
  // musl (Alpine) needs its own RID.
  if (os === 'linux' && existsSync('/etc/alpine-release')) return `linux-musl-${arch}`;
  return `${os}-${arch}`;
}

/** Why NativeAOT cannot be published here, or undefined when the toolchain looks complete. */
function aotBlocker() {
  if (process.platform === 'win32' || process.platform === 'darwin') return undefined; // MSVC / Xcode: let the SDK decide
  if (!hasCommand('clang')) {
    return 'clang is not installed, and NativeAOT needs it to link (Debian/Ubuntu: sudo apt-get install clang zlib1g-dev).';
  }
  const libDirs = ['/usr/lib', '/usr/lib64', '/lib', '/usr/local/lib', '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/x86_64-linux-gnu', '/lib/aarch64-linux-gnu'];
  if (!libDirs.some((dir) => existsSync(join(dir, 'libz.so')) || existsSync(join(dir, 'libz.a')))) {
    return 'the zlib development files are not installed, and NativeAOT links against zlib (Debian/Ubuntu: sudo apt-get install zlib1g-dev).';
  }
  return undefined;
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
  if (blocker || !rid) {
    console.log(`\nSkipping the NativeAOT publish: ${blocker ?? `no NativeAOT runtime identifier for ${process.platform}/${process.arch}.`}`);
    console.log(`The JIT build is ready instead: dotnet ${relative(join(SIDECAR_PROJECT, 'bin', config, 'net10.0', 'oauth-sidecar.dll'))}`);
    if (existsSync(AOT_PATH)) {
      console.log(`(${relative(AOT_PATH)} from an earlier publish is left as it is${isOutOfDate(AOT_PATH) ? ', and it is older than the sources' : ''}; the demo prefers it unless you delete it.)`);
    }
    return 0;
  }

  const aotStarted = Date.now();
  console.log(`\nPublishing NativeAOT (${rid}) to ${relative(AOT_DIR)} (about a minute)...`);
  // A stale executable must not survive a failed publish.
  rmSync(AOT_PATH, { force: true });
  const result = await run('dotnet', [
    'publish', SIDECAR_PROJECT, '-c', 'Release', '-r', rid, '-p:PublishAot=true', '-o', AOT_DIR, '-nologo',
  ]);
  if (result.code !== 0 || !existsSync(AOT_PATH)) {
    console.error(`\nThe NativeAOT publish failed (exit code ${result.code}).`);
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
