// The release, installed the way a user would (npm test's "release" suite; node --test tests/release/).
//
// Runs `npm run release`, then, from temporary folders outside the repository and with nothing of the
// repository on any search path: installs the npm tarballs into a fresh project and signs in with
// spawnSidecar() against the test provider; installs the wheels into fresh venvs (pip --no-index) and signs in
// from Python; installs the dotnet tool into a temporary tool path and runs it; unpacks the archive. The native
// variants run with no `dotnet` on PATH. Without clang (NativeAOT) the native variants are skipped with the
// reason, except in CI (CI=true), where that is a failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT, aotBlocker, run, startIdp, tail } from '../../scripts/lib.mjs';
import { PLATFORMS, productVersion } from '../../scripts/release.mjs';
import { missingTools, pythonWith } from '../../scripts/system-deps.mjs';

const MINUTE = 60_000;
const CI = Boolean(process.env.CI) && !/^(0|false|no)$/i.test(process.env.CI);
const DIST = join(ROOT, 'artifacts', 'dist');
const PLATFORM = `${process.platform}-${process.arch}`;
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const EXE = PLATFORMS[PLATFORM]?.exe ?? '';
const EXE_SUFFIX = process.platform === 'win32' ? '.exe' : '';
const VERSION = productVersion();

const state = { setupError: undefined, nativeSkip: undefined, idp: undefined, work: undefined, files: [], toolPath: undefined };

before(async () => {
  try {
    // The native variants need NativeAOT (clang, zlib) and objdump; without them locally, they are skipped.
    const blocker = PLATFORMS[PLATFORM] ? aotBlocker() ?? (process.platform === 'linux' && missingTools(['objdump']).length ? 'objdump (binutils) is not installed' : undefined)
      : `${PLATFORM} is not a release platform`;
    if (blocker) state.nativeSkip = `the native packages cannot be built here: ${blocker}`;
    const args = [join(ROOT, 'scripts', 'release.mjs'), ...(blocker && !CI ? ['--no-native'] : [])];
    const released = await run(process.execPath, args, { capture: true, echo: true, timeoutMs: 30 * MINUTE });
    if (released.code !== 0) throw new Error(`npm run release failed (exit code ${released.code}):\n${tail(released.stderr, 20)}`);
    state.files = readdirSync(DIST);
    state.work = mkdtempSync(join(realpathSync(tmpdir()), 'oauth-sidecar-release-'));
    assert.ok(!state.work.startsWith(ROOT), 'the temporary folder is outside the repository');
    state.idp = await startIdp(['--device-interval', '1']);
  } catch (err) {
    state.setupError = err;
  }
});

after(async () => {
  await state.idp?.close();
  if (state.work) rmSync(state.work, { recursive: true, force: true });
});

function ready() {
  if (state.setupError) throw state.setupError;
}

/** True (and the test is skipped) when the native packages were not built; in CI that fails instead. */
function skipWithoutNative(t) {
  ready();
  if (!state.nativeSkip) return false;
  assert.ok(!CI, `CI must build the native packages, but ${state.nativeSkip}`);
  t.skip(state.nativeSkip);
  return true;
}

function dist(pattern) {
  const name = state.files.find((f) => pattern.test(f));
  assert.ok(name, `artifacts/dist has no file matching ${pattern}: ${state.files.join(', ')}`);
  return join(DIST, name);
}

function folder(name) {
  const dir = join(state.work, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A user's environment: nothing of the repository (no OAUTH_SIDECAR_PATH, NODE_PATH, PYTHONPATH, npm's
 * npm_* variables of the `npm test` that runs us), no display or browser. Without `dotnet`, every PATH folder
 * that holds a `dotnet` is replaced by a folder of links to everything else in it (/usr/bin minus dotnet):
 * the machine as it would be without .NET, so the native executable must run on its own.
 */
function userEnv({ dotnet, prependPath = [] }) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|NODE_PATH$|NODE_OPTIONS$|PYTHONPATH$|PYTHONHOME$|OAUTH_SIDECAR_|DISPLAY$|WAYLAND_DISPLAY$|BROWSER$|INIT_CWD$|VIRTUAL_ENV$)/.test(key)) continue;
    if (!dotnet && /^DOTNET_/.test(key)) continue;
    env[key] = value;
  }
  let dirs = (process.env.PATH ?? '').split(delimiter).filter((d) => d && !d.startsWith(ROOT));
  if (!dotnet) dirs = dirs.map((dir, i) => (existsSync(join(dir, `dotnet${EXE_SUFFIX}`)) ? withoutDotnet(dir, i) : dir));
  env.PATH = [...prependPath, ...dirs].join(delimiter);
  return env;
}


/** A folder of links to every entry of `dir` but dotnet (made once per folder). */
function withoutDotnet(dir, index) {
  const shadow = join(state.work, 'path-without-dotnet', String(index));
  if (!existsSync(shadow)) {
    mkdirSync(shadow, { recursive: true });
    for (const entry of readdirSync(dir)) {
      if (entry === `dotnet${EXE_SUFFIX}`) continue;
      try {
        symlinkSync(join(dir, entry), join(shadow, entry));
      } catch {
        /* a name we cannot link: not needed */
      }
    }
  }
  return shadow;
}

async function must(command, args, options) {
  const result = await run(command, args, { capture: true, timeoutMs: 10 * MINUTE, ...options, inheritEnv: !options?.env });
  assert.equal(result.code, 0, `${command} ${args.join(' ')} failed (exit code ${result.code}):\n${tail(result.stdout + result.stderr, 30)}`);
  return result;
}

/** The last stdout line of a sign-in script, as JSON. */
const lastJson = (stdout) => JSON.parse(stdout.trim().split('\n').pop());

/** Installs the dotnet tool into a temporary tool path (once); returns that folder. */
async function installTool() {
  if (state.toolPath) return state.toolPath;
  const toolPath = folder('dotnet-tools');
  // Only artifacts/dist as a package source: the tool must come from there, never from nuget.org.
  const config = join(state.work, 'nuget.config');
  writeFileSync(config, `<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <packageSources>\n    <clear />\n    <add key="dist" value="${DIST}" />\n  </packageSources>\n</configuration>\n`);
  await must('dotnet', ['tool', 'install', 'oauth-sidecar', '--tool-path', toolPath, '--configfile', config, '--version', VERSION],
    { cwd: state.work, env: userEnv({ dotnet: true }) });
  state.toolPath = toolPath;
  return toolPath;
}

const NODE_SIGN_IN = `import { findSidecar, spawnSidecar } from '@oauth-sidecar/client';
const [issuer, control] = process.argv.slice(2);
const location = findSidecar();
const sidecar = await spawnSidecar({ args: ['--storage', 'memory'] });
try {
  const init = await sidecar.initialize({ clientInfo: { name: 'release-test' } });
  const { clientHandle } = await sidecar.createClient({ issuer, clientId: 'native-app', scopes: ['openid', 'offline_access', 'profile'] });
  const flow = await sidecar.initiateAuthCodeFlow({ clientHandle, openBrowser: false });
  const pending = sidecar.obtainTokenByAuthCodeFlow({ flowId: flow.flowId });
  // The test provider's headless user signs in as alice and consents; the redirect goes to the loopback server.
  const res = await fetch(control + '/authorize', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: flow.authUri, login: 'alice' }),
  });
  if (!res.ok) throw new Error('the headless user failed: HTTP ' + res.status);
  const tokens = await pending;
  console.log(JSON.stringify({ kind: location.kind, path: location.path, version: init.serverInfo.version,
    sub: tokens.idTokenClaims?.sub, accessToken: typeof tokens.accessToken === 'string' && tokens.accessToken.length > 0 }));
} finally {
  await sidecar.dispose();
}
`;

const PYTHON_SIGN_IN = `import json, sys, urllib.request
from oauth_sidecar import Sidecar, find_sidecar

issuer, control = sys.argv[1:3]
command = find_sidecar()
with Sidecar.spawn(storage="memory") as sidecar:
    init = sidecar.initialize(client_info="release-test")
    client = sidecar.create_client(issuer, client_id="native-app", scopes=["openid", "offline_access", "profile"])
    flow = sidecar.initiate_auth_code_flow(client, open_browser=False)
    request = urllib.request.Request(control + "/authorize", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"url": flow.auth_uri, "login": "alice"}).encode())
    urllib.request.urlopen(request, timeout=60).read()
    tokens = sidecar.obtain_token_by_auth_code_flow(flow, timeout=60)
    print(json.dumps({"command": command, "version": init.server_info.version,
                      "sub": (tokens.id_token_claims or {}).get("sub"), "accessToken": bool(tokens.access_token)}))
`;

/** A fresh npm project in the work folder with `tarballs` installed; returns its folder. */
async function npmProject(name, tarballs, { env, omitOptional = false }) {
  const dir = folder(name);
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  await must(NPM, ['install', '--no-audit', '--no-fund', ...(omitOptional ? ['--omit=optional'] : []), ...tarballs], { cwd: dir, env });
  writeFileSync(join(dir, 'sign-in.mjs'), NODE_SIGN_IN);
  return dir;
}

/** A fresh venv in the work folder with `wheel` installed offline; returns its python. */
async function venv(name, wheel) {
  const python = pythonWith('venv, ensurepip');
  assert.ok(python, 'no Python here can create a venv with pip (Debian: apt-get install python3-venv)');
  const dir = join(state.work, name);
  await must(python, ['-m', 'venv', dir], { cwd: state.work, env: userEnv({ dotnet: true }) });
  const bin = join(dir, process.platform === 'win32' ? 'Scripts' : 'bin');
  await must(join(bin, 'pip'), ['install', '--no-index', '--disable-pip-version-check', wheel], { cwd: state.work, env: userEnv({ dotnet: true }) });
  writeFileSync(join(state.work, 'sign_in.py'), PYTHON_SIGN_IN);
  return join(bin, 'python');
}

test(`artifacts/dist: every package at version ${VERSION}, and SHA256SUMS verifies every file`, () => {
  ready();
  const expected = [
    /^oauth-sidecar-client-.*\.tgz$/, /^oauth_sidecar-.*-py3-none-any\.whl$/, /^oauth-sidecar\..*\.nupkg$/, /^SHA256SUMS$/,
  ];
  if (!state.nativeSkip) {
    const { wheelTag } = PLATFORMS[PLATFORM];
    expected.push(/^oauth-sidecar-[^-]+-.*\.(tar\.gz|zip)$/, new RegExp(`^oauth-sidecar-${PLATFORM}-.*\\.tgz$`),
      new RegExp(`^oauth_sidecar-.*-py3-none-${wheelTag ?? (process.platform === 'linux' ? 'manylinux_2_\\d+_' : 'macosx_\\d+_\\d+_')}.*\\.whl$`));
  }
  for (const pattern of expected) dist(pattern);
  for (const file of state.files.filter((f) => f !== 'SHA256SUMS')) {
    assert.ok(file.includes(VERSION), `${file} does not carry the version ${VERSION}`);
  }
  const sums = readFileSync(join(DIST, 'SHA256SUMS'), 'utf8').trim().split('\n').map((line) => line.split(/ {2}/));
  assert.deepEqual(sums.map(([, f]) => f).sort(), state.files.filter((f) => f !== 'SHA256SUMS').sort());
  for (const [sum, file] of sums) {
    assert.equal(createHash('sha256').update(readFileSync(join(DIST, file))).digest('hex'), sum, `${file}: SHA-256 mismatch`);
  }
  // The committed schema carries the same version (it is generated from the executable).
  const schema = JSON.parse(readFileSync(join(ROOT, 'schema', 'oauth-sidecar.openrpc.json'), 'utf8'));
  assert.equal(schema.info.version, VERSION);
});

test('dotnet tool: installed into a temporary tool path from artifacts/dist, `oauth-sidecar --version` and a piped request', async () => {
  ready();
  const toolPath = await installTool();
  const env = userEnv({ dotnet: true, prependPath: [toolPath] });
  const { stdout } = await must(join(toolPath, `oauth-sidecar${EXE_SUFFIX}`), ['--version'], { cwd: state.work, env });
  assert.equal(stdout.trim(), VERSION);
  // End of input answers what came before it (printf '…' | oauth-sidecar --framing newline).
  const piped = await must('sh', ['-c', 'printf \'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}\\n\' | oauth-sidecar --framing newline'], { cwd: state.work, env });
  const answer = JSON.parse(piped.stdout.trim());
  assert.equal(answer.id, 1);
  assert.equal(answer.result.serverInfo.version, VERSION);
});

test('npm: the client and the platform package in a fresh project sign in with spawnSidecar(), no dotnet on PATH; npx oauth-sidecar --version', async (t) => {
  if (skipWithoutNative(t)) return;
  const env = userEnv({ dotnet: false });
  assert.equal((await run('dotnet', ['--version'], { env, inheritEnv: false, capture: true })).code, 127, 'dotnet is not on the user\'s PATH');
  const dir = await npmProject('npm-native', [dist(/^oauth-sidecar-client-.*\.tgz$/), dist(new RegExp(`^oauth-sidecar-${PLATFORM}-.*\\.tgz$`))], { env });

  const signedIn = lastJson((await must(process.execPath, ['sign-in.mjs', state.idp.issuer, state.idp.control], { cwd: dir, env, timeoutMs: 3 * MINUTE })).stdout);
  assert.equal(signedIn.kind, 'package');
  assert.equal(signedIn.path, realpathSync(join(dir, 'node_modules', '@oauth-sidecar', PLATFORM, 'bin', `oauth-sidecar${EXE}`)));
  assert.deepEqual([signedIn.version, signedIn.sub, signedIn.accessToken], [VERSION, 'alice', true]);

  // The CommonJS build finds the same executable.
  writeFileSync(join(dir, 'find.cjs'), "console.log(JSON.stringify(require('@oauth-sidecar/client').findSidecar()));\n");
  assert.equal(lastJson((await must(process.execPath, ['find.cjs'], { cwd: dir, env })).stdout).path, signedIn.path);
  // The platform package's bin.
  const npx = await must(NPM.replace('npm', 'npx'), ['--no-install', 'oauth-sidecar', '--version'], { cwd: dir, env });
  assert.equal(npx.stdout.trim(), VERSION);
  // The client's manifest lists every platform package as an optional dependency, at this version.
  const manifest = JSON.parse(readFileSync(join(dir, 'node_modules', '@oauth-sidecar', 'client', 'package.json'), 'utf8'));
  assert.deepEqual(manifest.optionalDependencies, Object.fromEntries(Object.keys(PLATFORMS).map((p) => [`@oauth-sidecar/${p}`, VERSION])));
  assert.equal(manifest.version, VERSION);
});

test('npm: the client without its optional platform package finds oauth-sidecar on PATH (the dotnet tool) and signs in', async () => {
  ready();
  const toolPath = await installTool();
  const env = userEnv({ dotnet: true, prependPath: [toolPath] });
  const dir = await npmProject('npm-path', [dist(/^oauth-sidecar-client-.*\.tgz$/)], { env, omitOptional: true });
  assert.ok(!existsSync(join(dir, 'node_modules', '@oauth-sidecar', PLATFORM)), 'the platform package was left out');
  const signedIn = lastJson((await must(process.execPath, ['sign-in.mjs', state.idp.issuer, state.idp.control], { cwd: dir, env, timeoutMs: 3 * MINUTE })).stdout);
  assert.equal(signedIn.kind, 'path');
  assert.equal(signedIn.path, join(toolPath, `oauth-sidecar${EXE_SUFFIX}`));
  assert.deepEqual([signedIn.version, signedIn.sub, signedIn.accessToken], [VERSION, 'alice', true]);

  // With nothing on PATH either, the error names the platform package to install.
  const bare = { ...env, PATH: userEnv({ dotnet: false }).PATH };
  writeFileSync(join(dir, 'find.mjs'), "import { findSidecar } from '@oauth-sidecar/client';\ntry { findSidecar(); } catch (err) { console.log(JSON.stringify(err.message)); }\n");
  const message = lastJson((await must(process.execPath, ['find.mjs'], { cwd: dir, env: bare })).stdout);
  assert.match(message, new RegExp(`npm install @oauth-sidecar/${PLATFORM}`));
});

test('Python: the platform wheel in a fresh venv (pip --no-index) signs in, no dotnet on PATH', async (t) => {
  if (skipWithoutNative(t)) return;
  const python = await venv('venv-native', dist(/^oauth_sidecar-.*-py3-none-(?!any).*\.whl$/));
  const env = userEnv({ dotnet: false });
  const signedIn = lastJson((await must(python, ['sign_in.py', state.idp.issuer, state.idp.control], { cwd: state.work, env, timeoutMs: 3 * MINUTE })).stdout);
  assert.equal(signedIn.command.length, 1);
  assert.match(signedIn.command[0], new RegExp(`venv-native.*site-packages.oauth_sidecar.bin.oauth-sidecar${EXE.replace('.', '\\.')}$`));
  assert.deepEqual([signedIn.version, signedIn.sub, signedIn.accessToken], [VERSION, 'alice', true]);
});

test('Python: the pure wheel in a fresh venv finds oauth-sidecar on PATH (the dotnet tool) and signs in', async () => {
  ready();
  const toolPath = await installTool();
  const python = await venv('venv-any', dist(/^oauth_sidecar-.*-py3-none-any\.whl$/));
  const env = userEnv({ dotnet: true, prependPath: [toolPath] });
  const signedIn = lastJson((await must(python, ['sign_in.py', state.idp.issuer, state.idp.control], { cwd: state.work, env, timeoutMs: 3 * MINUTE })).stdout);
  assert.deepEqual(signedIn.command, [join(toolPath, `oauth-sidecar${EXE_SUFFIX}`)]);
  assert.deepEqual([signedIn.version, signedIn.sub, signedIn.accessToken], [VERSION, 'alice', true]);
});

test('archive: unpacked, the executable runs with no dotnet on PATH and holds README.md and LICENSE', async (t) => {
  if (skipWithoutNative(t)) return;
  const archive = dist(/^oauth-sidecar-[^-]+-.*\.(tar\.gz|zip)$/);
  const dir = folder('archive');
  const env = userEnv({ dotnet: false });
  await must('tar', ['-x', '-f', archive, '-C', dir], { env });
  const [top] = readdirSync(dir);
  assert.equal(top, `oauth-sidecar-${VERSION}-${PLATFORM}`);
  assert.deepEqual(readdirSync(join(dir, top)).sort(), ['LICENSE', 'README.md', `oauth-sidecar${EXE}`]);
  const { stdout } = await must(join(dir, top, `oauth-sidecar${EXE}`), ['--version'], { cwd: state.work, env });
  assert.equal(stdout.trim(), VERSION);
});
