// Shared helpers of the repository scripts (demo, test runner, build).
// Only Node built-ins here: this file must load before `npm install` has run.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { delimiter, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the folder holding OAuthSidecar.sln). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SOLUTION = join(ROOT, 'OAuthSidecar.sln');
export const SIDECAR_PROJECT = join(ROOT, 'src', 'OAuthSidecar');
export const EXE = process.platform === 'win32' ? '.exe' : '';
export const DLL_PATH = join(SIDECAR_PROJECT, 'bin', 'Release', 'net10.0', 'oauth-sidecar.dll');
export const AOT_DIR = join(ROOT, 'artifacts', 'aot');
export const AOT_PATH = join(AOT_DIR, `oauth-sidecar${EXE}`);

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Kills a child started by run() and everything it started (its process group). */
function killTree(child, signal = 'SIGKILL') {
  try {
    if (process.platform !== 'win32' && child.pid) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    child.kill(signal);
  }
}

/** Children started by run() that are still running (killed by killChildren()). */
const running = new Set();

/** Kills (SIGTERM, then SIGKILL after `graceMs`) every child run() started that is still running. */
export async function killChildren(graceMs = 2000) {
  const children = [...running];
  for (const child of children) killTree(child, 'SIGTERM');
  if (children.length === 0) return;
  await new Promise((r) => setTimeout(r, graceMs));
  for (const child of running) killTree(child, 'SIGKILL');
}

/** Prints to stderr (progress notes that must not mix with a script's result lines). */
export function note(message) {
  process.stderr.write(`${message}\n`);
}

/** Turns `--name value`, `--name=value` and `--flag` into an object; the rest goes to `_`. */
export function parseFlags(argv, { strings = [], booleans = [], multi = [] } = {}) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) { out._.push(arg); continue; }
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2);
    if (booleans.includes(name)) {
      out[name] = value === undefined ? true : !/^(0|false|no)$/i.test(value);
    } else if (strings.includes(name) || multi.includes(name)) {
      if (value === undefined) value = argv[++i];
      if (value === undefined) throw new Error(`--${name} needs a value`);
      if (multi.includes(name)) (out[name] ??= []).push(value);
      else out[name] = value;
    } else {
      throw new Error(`unknown option --${name}`);
    }
  }
  return out;
}

/**
 * Runs a command. stdio is inherited unless `capture` is set, in which case the output is
 * collected (and still echoed when `echo` is true). `env` is added to this process's environment,
 * or replaces it with `inheritEnv: false`. Resolves { code, signal, stdout, stderr };
 * never rejects for a non-zero exit (a missing program gives code 127).
 */
export function run(command, args = [], { cwd = ROOT, env, inheritEnv = true, capture = false, echo = false, timeoutMs } = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, {
      cwd,
      env: env ? (inheritEnv ? { ...process.env, ...env } : env) : process.env,
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'],
      shell: process.platform === 'win32' && /\.(cmd|bat)$/i.test(command),
      // A process group of its own, so a timeout kills the whole tree (dotnet test leaves vstest and
      // testhost children that would otherwise hold the output pipes open).
      detached: process.platform !== 'win32',
    });
    running.add(child);
    let stdout = '';
    let stderr = '';
    if (capture) {
      child.stdout.on('data', (d) => { stdout += d; if (echo) process.stdout.write(d); });
      child.stderr.on('data', (d) => { stderr += d; if (echo) process.stderr.write(d); });
    }
    let timer;
    if (timeoutMs) {
      timer = setTimeout(() => {
        stderr += `\n(timed out after ${Math.round(timeoutMs / 1000)} s)\n`;
        killTree(child);
      }, timeoutMs);
    }
    child.on('error', (err) => {
      running.delete(child);
      clearTimeout(timer);
      resolvePromise({ code: 127, signal: null, stdout, stderr: `${stderr}${err.message}\n` });
    });
    child.on('close', (code, signal) => {
      running.delete(child);
      clearTimeout(timer);
      resolvePromise({ code: code ?? 1, signal, stdout, stderr });
    });
  });
}

/** Whether a program is on PATH. */
export function hasCommand(name) {
  const exts = process.platform === 'win32' ? ['.exe', '.cmd', '.bat', ''] : [''];
  return (process.env.PATH ?? '').split(delimiter).some(
    (dir) => dir && exts.some((ext) => {
      try { return statSync(join(dir, name + ext)).isFile(); } catch { return false; }
    }),
  );
}

/** Installs the npm dependencies (root + workspaces) when one we need is missing. */
export async function ensureNodeModules({ quiet = false } = {}) {
  const needed = ['oidc-provider', 'vscode-jsonrpc'];
  const missing = needed.filter((name) => !existsSync(join(ROOT, 'node_modules', name, 'package.json')));
  if (missing.length === 0) return;
  note(`Installing npm dependencies (missing: ${missing.join(', ')})...`);
  const result = await run(NPM, ['install', '--no-audit', '--no-fund'], { capture: quiet, echo: false });
  if (result.code !== 0) {
    if (quiet) process.stderr.write(tail(result.stdout + result.stderr, 30));
    throw new Error(`npm install failed (exit code ${result.code}).`);
  }
}

/**
 * `dotnet build OAuthSidecar.sln -c <config>`. With `quiet`, the build output is shown only on
 * failure. Resolves the run result; throws when the build fails.
 */
export async function buildDotnet(config = 'Release', { quiet = false, project = SOLUTION, extraArgs = [] } = {}) {
  if (!hasCommand('dotnet')) throw new Error('The .NET SDK (`dotnet`) is not on PATH; install .NET SDK 10 first.');
  const args = ['build', project, '-c', config, '-nologo'];
  if (quiet) args.push('-v', 'q', '-clp:NoSummary;ErrorsOnly');
  args.push(...extraArgs);
  const result = await run('dotnet', args, { capture: quiet });
  if (result.code !== 0) {
    if (quiet) process.stderr.write(tail(result.stdout + result.stderr, 40));
    throw new Error(`dotnet build ${relative(project)} -c ${config} failed (exit code ${result.code}).`);
  }
  return result;
}

/** The .NET runtime identifier of this machine (linux-x64, osx-arm64, win-x64, linux-musl-x64, ...), or undefined. */
export function runtimeIdentifier() {
  const os = { linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform];
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (!os || !arch) return undefined;
  // musl (Alpine) needs its own RID.
  if (os === 'linux' && existsSync('/etc/alpine-release')) return `linux-musl-${arch}`;
  return `${os}-${arch}`;
}

/** Why NativeAOT cannot be published here, or undefined when the toolchain looks complete. */
export function aotBlocker() {
  if (!runtimeIdentifier()) return `there is no NativeAOT runtime identifier for ${process.platform}/${process.arch}.`;
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

/**
 * Publishes the NativeAOT executable of this machine's platform to artifacts/aot (AOT_PATH). A stale executable
 * never survives a failed publish. Throws when the toolchain is missing (aotBlocker()) or the publish fails.
 *
 * Its intermediate files go to artifacts/aot-build (`--artifacts-path`), never to the projects' bin/ and obj/: it
 * can run while `dotnet build` builds the solution, and its restore for the runtime does not make that build's
 * outputs look stale. `analyzers: false` skips the Roslyn analyzers (about half of its compile time) when the same
 * sources were just analyzed by a solution build, as npm test does; the trimming and AOT warnings of the NativeAOT
 * compiler itself are still reported.
 */
export async function publishAot({ quiet = false, analyzers = true } = {}) {
  const blocker = aotBlocker();
  if (blocker) throw new Error(`NativeAOT cannot be published here: ${blocker}`);
  const rid = runtimeIdentifier();
  rmSync(AOT_PATH, { force: true });
  const args = ['publish', SIDECAR_PROJECT, '-c', 'Release', '-r', rid, '-p:PublishAot=true', '-o', AOT_DIR, '-nologo',
    '--artifacts-path', join(ROOT, 'artifacts', 'aot-build')];
  if (!analyzers) args.push('-p:RunAnalyzers=false');
  if (quiet) args.push('-v', 'q', '-clp:NoSummary;ErrorsOnly');
  const result = await run('dotnet', args, { capture: quiet });
  if (result.code !== 0 || !existsSync(AOT_PATH)) {
    if (quiet) process.stderr.write(tail(result.stdout + result.stderr, 40));
    throw new Error(`the NativeAOT publish (dotnet ${args.join(' ')}) failed (exit code ${result.code}).`);
  }
  return { rid, path: AOT_PATH };
}

/** The newest modification time (ms) among the C# sources and build files. */
export function newestSourceTime() {
  let newest = 0;
  const consider = (file) => {
    try { newest = Math.max(newest, statSync(file).mtimeMs); } catch { /* missing */ }
  };
  const walk = (dir) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const entry of entries) {
      if (entry.isDirectory()) {
        if (!['bin', 'obj', 'node_modules', '.git'].includes(entry.name)) walk(join(dir, entry.name));
      } else if (['.cs', '.csproj', '.props', '.targets', '.json', '.resx'].includes(extname(entry.name))) {
        consider(join(dir, entry.name));
      }
    }
  };
  walk(join(ROOT, 'src'));
  for (const file of ['Directory.Build.props', 'Directory.Packages.props', 'Directory.Build.targets', 'global.json', 'OAuthSidecar.sln']) {
    consider(join(ROOT, file));
  }
  return newest;
}

/** Whether `file` is missing or older than the sources. */
export function isOutOfDate(file) {
  try {
    return statSync(file).mtimeMs < newestSourceTime();
  } catch {
    return true;
  }
}

/**
 * How to start the sidecar: { command, args, label, kind } where kind is 'env', 'aot' or 'dll'.
 * OAUTH_SIDECAR_PATH (an executable, or a .dll run with `dotnet`) wins; then the NativeAOT build
 * in artifacts/aot; then the Release build of src/OAuthSidecar (which may not exist yet).
 */
export function findSidecar() {
  const fromEnv = process.env.OAUTH_SIDECAR_PATH;
  if (fromEnv) {
    const path = isAbsolute(fromEnv) ? fromEnv : resolve(process.cwd(), fromEnv);
    if (!existsSync(path)) throw new Error(`OAUTH_SIDECAR_PATH points to ${path}, which does not exist.`);
    return path.toLowerCase().endsWith('.dll')
      ? { command: 'dotnet', args: [path], label: `dotnet ${relative(path)}`, kind: 'env', path }
      : { command: path, args: [], label: relative(path), kind: 'env', path };
  }
  if (existsSync(AOT_PATH)) return { command: AOT_PATH, args: [], label: relative(AOT_PATH), kind: 'aot', path: AOT_PATH };
  return { command: 'dotnet', args: [DLL_PATH], label: `dotnet ${relative(DLL_PATH)}`, kind: 'dll', path: DLL_PATH };
}

/**
 * Starts the bundled test provider (tests/idp/server.mjs) with extra command-line `args`.
 * Resolves { issuer, port, control, child, close() }. Its stderr is dropped unless `verbose`.
 * It stops when close() ends its stdin (and dies with this process anyway).
 */
export function startIdp(args = [], { verbose = false, timeoutMs = 30_000 } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'tests', 'idp', 'server.mjs'), ...args], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      if (verbose) process.stderr.write(prefixLines(String(d), '[idp] '));
      else stderr = (stderr + d).slice(-4000);
    });
    const exited = new Promise((r) => child.once('exit', r));
    const close = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the test provider did not start within ${timeoutMs / 1000} s.\n${stderr}`));
    }, timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(new Error(`could not start the test provider: ${err.message}`)); });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the test provider exited (code ${code}) before it was ready:\n${tail(stderr, 20)}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        const info = JSON.parse(line);
        resolvePromise({ ...info, child, close, stderr: () => stderr });
      } catch {
        child.kill('SIGKILL');
        reject(new Error(`the test provider printed something unexpected: ${line.slice(0, 200)}`));
      }
    });
  });
}

/**
 * Masks token-like strings (long base64url runs, JWTs) so output can be shared:
 * `eyJhbGciOi…(812 chars)`. Ordinary words, URLs' host and path, and short ids stay readable.
 */
export function redact(text, { keep = 6, minLength = 20 } = {}) {
  const pattern = new RegExp(`[A-Za-z0-9_\\-+/]{${minLength},}={0,2}(?:\\.[A-Za-z0-9_\\-+/]{8,}={0,2}){0,2}`, 'g');
  return String(text).replace(pattern, (match) => {
    // Mask only what looks random: digits mixed with letters, or mixed case. Plain words,
    // identifiers (code_challenge_method) and paths (a/b/c) stay readable.
    const looksRandom = (/[0-9]/.test(match) && /[A-Za-z]/.test(match)) || (/[a-z]/.test(match) && /[A-Z]/.test(match));
    const looksLikePath = match.includes('/') && match.split('/').every((segment) => segment.length < minLength);
    return looksRandom && !looksLikePath ? tokenPreview(match, keep) : match;
  });
}

/** `abcdef…(43 chars)`; '—' for a missing token. */
export function tokenPreview(token, keep = 6) {
  if (!token) return '—';
  return `${token.slice(0, keep)}…(${token.length} chars)`;
}

/** A path relative to the repository root (for messages). */
export function relative(path) {
  return path.startsWith(ROOT + '/') || path.startsWith(ROOT + '\\') ? path.slice(ROOT.length + 1) : path;
}

/** The last `n` lines of a text. */
export function tail(text, n) {
  const lines = String(text).trimEnd().split(/\r?\n/);
  return `${lines.slice(-n).join('\n')}\n`;
}

export function prefixLines(text, prefix) {
  return text.replace(/^(?=.)/gm, prefix);
}
