#!/usr/bin/env node
// npm run release [-- --no-native] [-- --checksums] [-- --set-version X.Y.Z]
//
// Builds, into artifacts/dist/, everything a user installs, for the platform this runs on (PLATFORMS below),
// with ONE version: <Version> in Directory.Build.props (the executable's --version, initialize's
// serverInfo.version and the schema's info.version come from it; the package manifests must agree, and
// --set-version writes it everywhere):
//   oauth-sidecar-<v>-<platform>.tar.gz                  the NativeAOT executable, README.md, LICENSE
//   oauth-sidecar-<platform>-<v>.tgz                     npm @oauth-sidecar/<platform>: os/cpu, the executable as `bin`
//   oauth-sidecar-client-<v>.tgz                         npm @oauth-sidecar/client, every platform package as optionalDependencies
//   oauth_sidecar-<v>-py3-none-<platform tag>.whl        the Python client with the executable inside
//   oauth_sidecar-<v>-py3-none-any.whl                   the Python client alone (finds oauth-sidecar on PATH)
//   oauth-sidecar.<v>.nupkg                              the dotnet tool (framework-dependent, any OS)
//   SHA256SUMS                                           `sha256sum -c SHA256SUMS` verifies the rest
// NativeAOT cannot cross-compile between operating systems: run this on each platform (linux-x64, linux-arm64,
// osx-arm64, win-x64), put the outputs in one folder and run `npm run release -- --checksums` there
// (docs/INSTALL.md). --no-native builds only the portable packages (no clang here).
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  AOT_PATH, DLL_PATH, ROOT, SIDECAR_PROJECT, aotBlocker, isOutOfDate, parseFlags, publishAot, relative, run, runtimeIdentifier, tail,
} from './lib.mjs';
import { ensureTools, pythonWith } from './system-deps.mjs';

export const DIST = join(ROOT, 'artifacts', 'dist');
const STAGING = join(ROOT, 'artifacts', 'release');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * The platforms a release has: npm's `${process.platform}-${process.arch}` name → the .NET runtime identifier,
 * npm's os/cpu/libc, and the wheel's platform tag (for Linux, `manylinux_<glibc>_<arch>` from the executable).
 */
export const PLATFORMS = {
  'linux-x64': { rid: 'linux-x64', os: 'linux', cpu: 'x64', libc: 'glibc', wheelArch: 'x86_64' },
  'linux-arm64': { rid: 'linux-arm64', os: 'linux', cpu: 'arm64', libc: 'glibc', wheelArch: 'aarch64' },
  'darwin-arm64': { rid: 'osx-arm64', os: 'darwin', cpu: 'arm64', wheelArch: 'arm64' },
  'win32-x64': { rid: 'win-x64', os: 'win32', cpu: 'x64', wheelTag: 'win_amd64', exe: '.exe' },
};

/** The one version: <Version> in Directory.Build.props. */
export function productVersion() {
  const props = readFileSync(join(ROOT, 'Directory.Build.props'), 'utf8');
  const version = props.match(/<Version>\s*([^<\s]+)\s*<\/Version>/)?.[1];
  if (!version) throw new Error('Directory.Build.props has no <Version>.');
  return version;
}

/** The files that repeat the version, how to read it and how to write it. */
const VERSION_COPIES = [
  {
    file: 'Directory.Build.props',
    read: (text) => text.match(/<Version>\s*([^<\s]+)\s*<\/Version>/)?.[1],
    write: (text, v) => text.replace(/<Version>\s*[^<\s]+\s*<\/Version>/, `<Version>${v}</Version>`),
  },
  {
    file: 'clients/node/package.json',
    read: (text) => JSON.parse(text).version,
    write: (text, v) => text.replace(/("version":\s*")[^"]+(")/, `$1${v}$2`),
  },
  {
    file: 'clients/vscode-example/package.json',
    read: (text) => JSON.parse(text).dependencies?.['@oauth-sidecar/client'],
    write: (text, v) => text.replace(/("@oauth-sidecar\/client":\s*")[^"]+(")/, `$1${v}$2`),
  },
  {
    file: 'clients/python/pyproject.toml',
    read: (text) => text.match(/^version\s*=\s*"([^"]+)"/m)?.[1],
    write: (text, v) => text.replace(/^(version\s*=\s*")[^"]+(")/m, `$1${v}$2`),
  },
  {
    file: 'clients/python/oauth_sidecar/_async.py',
    read: (text) => text.match(/^__version__\s*=\s*"([^"]+)"/m)?.[1],
    write: (text, v) => text.replace(/^(__version__\s*=\s*")[^"]+(")/m, `$1${v}$2`),
  },
];

/** [{ file, version }] of every copy that disagrees with Directory.Build.props. */
export function versionMismatches(version = productVersion()) {
  return VERSION_COPIES.map(({ file, read }) => ({ file, version: read(readFileSync(join(ROOT, file), 'utf8')) }))
    .filter((copy) => copy.version !== version);
}

function setVersion(version) {
  // Pre-releases are spelled differently by npm and NuGet (1.2.3-beta.1) and Python (1.2.3b1): plain versions only.
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${version} is not a plain MAJOR.MINOR.PATCH version (pre-release versions are not supported yet).`);
  for (const { file, write } of VERSION_COPIES) {
    const path = join(ROOT, file);
    writeFileSync(path, write(readFileSync(path, 'utf8'), version));
  }
  console.log(`Version ${version} written to ${VERSION_COPIES.map((c) => c.file).join(', ')}.`);
  console.log('Regenerate the schema (npm run schema: its info.version) and package-lock.json (npm install) and commit.');
}

/** `sha256  name` lines (sha256sum's format) for every file in `dir` but SHA256SUMS itself. */
export function writeChecksums(dir = DIST) {
  const files = readdirSync(dir).filter((f) => f !== 'SHA256SUMS' && statSync(join(dir, f)).isFile()).sort();
  const lines = files.map((f) => `${createHash('sha256').update(readFileSync(join(dir, f))).digest('hex')}  ${f}`);
  writeFileSync(join(dir, 'SHA256SUMS'), `${lines.join('\n')}\n`);
  return files;
}

/** The highest GLIBC_x.y symbol version the executable needs (objdump -T), e.g. '2.34'. */
export function glibcNeeded(binary) {
  const result = spawnSync('objdump', ['-T', binary], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`objdump -T ${binary} failed: ${result.error?.message ?? result.stderr}`);
  const versions = [...result.stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  if (versions.length === 0) throw new Error(`${binary} references no GLIBC_ symbol version.`);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return versions[versions.length - 1].join('.');
}

/** The wheel platform tag of the executable built for `platform`. */
function wheelTag(platform, binary) {
  const p = PLATFORMS[platform];
  if (p.wheelTag) return p.wheelTag;
  if (p.os === 'linux') return `manylinux_${glibcNeeded(binary).replace('.', '_')}_${p.wheelArch}`;
  // macOS: the minimum OS version the linker wrote (LC_BUILD_VERSION minos), e.g. macosx_12_0_arm64.
  const otool = spawnSync('otool', ['-l', binary], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const minos = otool.stdout?.match(/minos\s+(\d+)\.(\d+)/);
  return `macosx_${minos ? `${minos[1]}_${minos[2]}` : '12_0'}_${p.wheelArch}`;
}

const mb = (bytes) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`);

async function step(title, fn) {
  const started = Date.now();
  console.log(`\n▸ ${title}`);
  const result = await fn();
  console.log(`  done in ${Math.round((Date.now() - started) / 1000)} s`);
  return result;
}

async function must(command, args, options = {}) {
  const result = await run(command, args, { capture: true, ...options });
  if (result.code !== 0) {
    process.stderr.write(tail(result.stdout + result.stderr, 40));
    throw new Error(`${command} ${args.join(' ')} failed (exit code ${result.code}).`);
  }
  return result;
}

/** `npm pack` in `dir` into `destination` (`scripts: false`: without its prepack); returns the tarball's path. */
async function npmPack(dir, destination, { scripts = true } = {}) {
  const { stdout } = await must(NPM, ['pack', '--json', '--pack-destination', destination, ...(scripts ? [] : ['--ignore-scripts'])], { cwd: dir });
  // A prepack script prints before the JSON: it starts at the line that is just "[".
  const [info] = JSON.parse(stdout.slice(stdout.search(/^\[\s*$/m)));
  return join(destination, info.filename);
}

/** Whether clients/node/dist (both builds) is newer than every file it is built from. */
function clientBuildIsFresh(client) {
  const outputs = ['dist/esm/index.js', 'dist/cjs/index.cjs', 'dist/cjs/package.json'].map((f) => join(client, f));
  if (!outputs.every((f) => existsSync(f))) return false;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  let newest = 0;
  const walk = (path) => {
    const info = statSync(path);
    if (info.isDirectory()) for (const entry of readdirSync(path)) walk(join(path, entry));
    else newest = Math.max(newest, info.mtimeMs);
  };
  for (const source of ['src', 'scripts', 'package.json', 'tsconfig.base.json', 'tsconfig.esm.json', 'tsconfig.cjs.json']) {
    if (existsSync(join(client, source))) walk(join(client, source));
  }
  return newest < built;
}

async function release({ native }) {
  const version = productVersion();
  const mismatches = versionMismatches(version);
  if (mismatches.length) {
    throw new Error(`the version copies disagree with Directory.Build.props (${version}): ${mismatches.map((m) => `${m.file} has ${m.version}`).join(', ')}. `
      + `Run \`npm run release -- --set-version ${version}\`.`);
  }
  const platform = `${process.platform}-${process.arch}`;
  if (native && !PLATFORMS[platform]) throw new Error(`${platform} is not a release platform (${Object.keys(PLATFORMS).join(', ')}); use --no-native.`);
  if (native && runtimeIdentifier() !== PLATFORMS[platform].rid) throw new Error(`this machine's runtime identifier is ${runtimeIdentifier()}, not ${PLATFORMS[platform].rid} (musl is not a release platform); use --no-native.`);
  const exe = PLATFORMS[platform]?.exe ?? '';
  console.log(`Release ${version} for ${native ? platform : 'the portable packages only (--no-native)'} into ${relative(DIST)}/`);

  const tools = native && process.platform === 'linux' ? ['python-build', 'clang', 'zlib', 'objdump'] : ['python-build'];
  const { missing, command } = ensureTools(tools);
  if (missing.length) throw new Error(`missing ${missing.join(', ')}${command ? ` (install: ${command})` : ''}.`);
  const python = pythonWith('setuptools, wheel');

  rmSync(DIST, { recursive: true, force: true });
  rmSync(STAGING, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  mkdirSync(STAGING, { recursive: true });
  const readme = join(ROOT, 'packaging', 'README.md');
  const licence = join(ROOT, 'LICENSE');

  let binary;
  if (native) {
    binary = await step(`NativeAOT executable (${PLATFORMS[platform].rid})`, async () => {
      const blocker = aotBlocker();
      if (blocker) throw new Error(`${blocker} (or run with --no-native for the portable packages only)`);
      if (existsSync(AOT_PATH) && !isOutOfDate(AOT_PATH)) {
        console.log(`  ${relative(AOT_PATH)} is newer than every source: reused`);
      } else {
        await publishAot({ quiet: true });
      }
      const printed = spawnSync(AOT_PATH, ['--version'], { encoding: 'utf8' }).stdout?.trim();
      if (printed !== version) throw new Error(`${relative(AOT_PATH)} --version prints ${printed}, not ${version}: delete artifacts/aot and run again.`);
      console.log(`  ${relative(AOT_PATH)} ${version} (${mb(statSync(AOT_PATH).size)})`);
      return AOT_PATH;
    });

    await step('Archive', async () => {
      const folder = `oauth-sidecar-${version}-${platform}`;
      const dir = join(STAGING, folder);
      mkdirSync(dir, { recursive: true });
      copyFileSync(binary, join(dir, `oauth-sidecar${exe}`));
      chmodSync(join(dir, `oauth-sidecar${exe}`), 0o755);
      copyFileSync(readme, join(dir, 'README.md'));
      copyFileSync(licence, join(dir, 'LICENSE'));
      if (process.platform === 'win32') {
        await must('tar', ['-a', '-c', '-f', join(DIST, `${folder}.zip`), '-C', STAGING, folder]);
      } else {
        const owner = process.platform === 'linux' ? ['--owner=0', '--group=0', '--numeric-owner'] : [];
        await must('tar', ['-c', '-z', '-f', join(DIST, `${folder}.tar.gz`), ...owner, '-C', STAGING, folder]);
      }
    });

    await step(`npm @oauth-sidecar/${platform}`, async () => {
      const p = PLATFORMS[platform];
      const dir = join(STAGING, `npm-${platform}`);
      mkdirSync(join(dir, 'bin'), { recursive: true });
      copyFileSync(binary, join(dir, 'bin', `oauth-sidecar${exe}`));
      chmodSync(join(dir, 'bin', `oauth-sidecar${exe}`), 0o755);
      copyFileSync(readme, join(dir, 'README.md'));
      copyFileSync(licence, join(dir, 'LICENSE'));
      writeFileSync(join(dir, 'package.json'), `${JSON.stringify({
        name: `@oauth-sidecar/${platform}`,
        version,
        description: `The oauth-sidecar executable (NativeAOT) for ${platform}; installed by @oauth-sidecar/client.`,
        license: 'MIT',
        os: [p.os],
        cpu: [p.cpu],
        ...(p.libc ? { libc: [p.libc] } : {}),
        bin: { 'oauth-sidecar': `bin/oauth-sidecar${exe}` },
        files: ['bin', 'README.md', 'LICENSE'],
        preferUnplugged: true,
      }, null, 2)}\n`);
      console.log(`  ${basename(await npmPack(dir, DIST))}`);
    });

    await step('Python platform wheel', async () => {
      const tag = wheelTag(platform, binary);
      const dir = stagePython(join(STAGING, `python-${platform}`));
      mkdirSync(join(dir, 'oauth_sidecar', 'bin'), { recursive: true });
      copyFileSync(binary, join(dir, 'oauth_sidecar', 'bin', `oauth-sidecar${exe}`));
      chmodSync(join(dir, 'oauth_sidecar', 'bin', `oauth-sidecar${exe}`), 0o755);
      console.log(`  ${await buildWheel(python, dir, { OAUTH_SIDECAR_WHEEL_PLATFORM: tag })}`);
    });
  }

  await step('npm @oauth-sidecar/client (npm pack: prepack builds it)', async () => {
    // A build newer than every file it is built from (npm test's node-client suite has just made it) is packed as
    // it is; otherwise prepack builds it.
    const client = join(ROOT, 'clients', 'node');
    const fresh = clientBuildIsFresh(client);
    if (fresh) console.log(`  ${relative(join(client, 'dist'))} is newer than its sources: packed without building`);
    const packed = await npmPack(client, STAGING, { scripts: !fresh });
    const dir = join(STAGING, 'npm-client');
    mkdirSync(dir, { recursive: true });
    await must('tar', ['-x', '-z', '-f', packed, '-C', dir]);
    const pkgDir = join(dir, 'package');
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
    if (!existsSync(join(pkgDir, 'dist', 'esm', 'index.js')) || !existsSync(join(pkgDir, 'dist', 'cjs', 'index.cjs'))) {
      throw new Error('npm pack of clients/node has no dist/esm/index.js or dist/cjs/index.cjs: its prepack did not build it.');
    }
    // The published manifest: public, no build scripts, and the platform packages as optional dependencies
    // (npm installs the one whose os/cpu match). They are not in the repository's manifest, where they would
    // send `npm ci` to the registry for packages that only exist after a release.
    delete manifest.private;
    delete manifest.scripts;
    delete manifest.devDependencies;
    manifest.version = version;
    manifest.optionalDependencies = Object.fromEntries(Object.keys(PLATFORMS).map((name) => [`@oauth-sidecar/${name}`, version]));
    writeFileSync(join(pkgDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (!existsSync(join(pkgDir, 'LICENSE'))) copyFileSync(licence, join(pkgDir, 'LICENSE'));
    console.log(`  ${basename(await npmPack(pkgDir, DIST))}`);
  });

  await step('Python pure wheel', async () => {
    console.log(`  ${await buildWheel(python, stagePython(join(STAGING, 'python-any')), {})}`);
  });

  await step('dotnet tool (dotnet pack)', async () => {
    // The Release build npm test (or npm run build) made is packed as it is when no source is newer: a NativeAOT
    // publish in between restores the project for its runtime, and a pack that builds would then compile it again.
    const reuse = existsSync(DLL_PATH) && !isOutOfDate(DLL_PATH);
    await must('dotnet', ['pack', SIDECAR_PROJECT, '-c', 'Release', '-o', DIST, '-nologo', '-v', 'q', '-clp:NoSummary;ErrorsOnly', ...(reuse ? ['--no-build'] : [])]);
    if (reuse) console.log(`  ${relative(DLL_PATH)} is newer than every source: packed without building`);
    const nupkg = `oauth-sidecar.${version}.nupkg`;
    if (!existsSync(join(DIST, nupkg))) throw new Error(`dotnet pack made no ${nupkg}.`);
    console.log(`  ${nupkg}`);
  });

  const files = writeChecksums(DIST);
  console.log(`\n${relative(DIST)}/ (version ${version}):`);
  for (const f of [...files, 'SHA256SUMS']) console.log(`  ${f.padEnd(60)} ${mb(statSync(join(DIST, f)).size).padStart(9)}`);
  return 0;
}

/** A copy of clients/python to build a wheel from (setuptools writes build/ and *.egg-info beside the sources). */
function stagePython(dir) {
  const source = join(ROOT, 'clients', 'python');
  mkdirSync(dir, { recursive: true });
  for (const f of ['pyproject.toml', 'setup.py', 'README.md']) copyFileSync(join(source, f), join(dir, f));
  copyFileSync(join(ROOT, 'LICENSE'), join(dir, 'LICENSE'));
  cpSync(join(source, 'oauth_sidecar'), join(dir, 'oauth_sidecar'), {
    recursive: true,
    filter: (path) => !/__pycache__|\.pyc$|[\\/]bin$/.test(path),
  });
  return dir;
}

/** Builds a wheel with setuptools' PEP 517 backend (no pip, no network) into DIST; returns its file name. */
async function buildWheel(python, dir, env) {
  const { stdout } = await must(python, ['-c', 'import sys\nfrom setuptools import build_meta\nprint(build_meta.build_wheel(sys.argv[1]))', DIST], {
    cwd: dir,
    env: { ...env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  return stdout.trim().split('\n').pop();
}

async function main() {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2), { booleans: ['no-native', 'checksums', 'help'], strings: ['set-version'] });
  } catch (err) {
    console.error(`release: ${err.message}`);
    return 2;
  }
  if (flags.help) {
    console.log('Usage: npm run release [-- --no-native] | [-- --checksums] | [-- --set-version X.Y.Z]\n'
      + '  Builds artifacts/dist/ for this platform (docs/INSTALL.md). --no-native: the portable packages only.\n'
      + '  --checksums: rewrite artifacts/dist/SHA256SUMS (after adding other platforms\' outputs).\n'
      + '  --set-version: write a new version into Directory.Build.props and every manifest.');
    return 0;
  }
  if (flags['set-version']) {
    setVersion(flags['set-version']);
    return 0;
  }
  if (flags.checksums) {
    const files = writeChecksums(DIST);
    console.log(`${relative(join(DIST, 'SHA256SUMS'))}: ${files.length} files.`);
    return 0;
  }
  return release({ native: !flags['no-native'] });
}

if (process.argv[1] && basename(process.argv[1]) === 'release.mjs') {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`\nrelease failed: ${err.message}`);
      process.exit(1);
    },
  );
}
