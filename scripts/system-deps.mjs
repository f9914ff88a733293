#!/usr/bin/env node
// The system packages the test suites and the release need, in ONE place: `npm test` (scripts/test.mjs),
// `npm run release` and `.ci/run` all use it.
//
//   node scripts/system-deps.mjs [--all | TOOL...] [--no-install] [--list]
//
// Each tool has a check (a program on PATH, a library file, a Python module) and the Debian/Ubuntu packages that
// provide it. Missing tools are installed with apt-get when we are root (or have password-less sudo) on a
// Debian-like system; otherwise, and with --no-install, the exact command to run is printed instead. Exit code 0
// when everything asked for is present afterwards, 1 when something is still missing.
// Only Node built-ins here: this runs before `npm install`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT, hasCommand, parseFlags } from './lib.mjs';

const LIB_DIRS = ['/usr/lib', '/usr/lib64', '/lib', '/lib64', '/usr/local/lib',
  '/usr/lib/x86_64-linux-gnu', '/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/aarch64-linux-gnu'];
const hasLibrary = (...names) => LIB_DIRS.some((dir) => names.some((name) => existsSync(join(dir, name))));

/** Python interpreters tried, in order, for a module: PATH's python3 (pyenv, a venv...), then Debian's. */
export const PYTHON_CANDIDATES = ['python3', '/usr/bin/python3', 'python'];

const pythonCache = new Map();
/** The first Python that can import every module in `modules` (a comma-separated list), or undefined. */
export function pythonWith(modules) {
  if (!pythonCache.has(modules)) {
    const found = PYTHON_CANDIDATES.find((py) => spawnSync(py, ['-c', `import ${modules}`], { stdio: 'ignore' }).status === 0);
    pythonCache.set(modules, found);
  }
  return pythonCache.get(modules);
}

/**
 * What the suites and the release use: name → { why, check(), apt: [Debian packages] }. Linux only; on other
 * systems the suites report what they miss themselves.
 */
export const TOOLS = {
  clang: { why: 'links the NativeAOT executable', check: () => hasCommand('clang'), apt: ['clang'] },
  zlib: { why: 'NativeAOT links against zlib', check: () => hasLibrary('libz.so', 'libz.a'), apt: ['zlib1g-dev'] },
  objdump: { why: 'reads the glibc version the executable needs (the wheel\'s manylinux tag)', check: () => hasCommand('objdump'), apt: ['binutils'] },
  curl: { why: 'a real client of the loopback server tests', check: () => hasCommand('curl'), apt: ['curl'] },
  chromium: {
    why: 'a real browser for the loopback server tests',
    check: () => existsSync('/usr/bin/chromium') || existsSync('/usr/bin/chromium-browser'),
    apt: ['chromium'],
  },
  dbus: { why: 'the session bus of the Secret Service tests', check: () => hasCommand('dbus-daemon'), apt: ['dbus-daemon', 'dbus-bin'] },
  'gnome-keyring': { why: 'a real Secret Service for the keyring tests', check: () => hasCommand('gnome-keyring-daemon'), apt: ['gnome-keyring'] },
  libsecret: { why: 'the keyring store talks to the Secret Service through it', check: () => hasLibrary('libsecret-1.so.0'), apt: ['libsecret-1-0', 'libsecret-tools'] },
  pytest: { why: 'runs the Python client tests', check: () => Boolean(pythonWith('pytest, jsonschema')), apt: ['python3-pytest', 'python3-jsonschema'] },
  'python-build': {
    why: 'builds the Python wheels (setuptools and wheel, no PyPI)',
    check: () => Boolean(pythonWith('setuptools, wheel')),
    apt: ['python3-setuptools', 'python3-wheel'],
  },
  venv: { why: 'the release test installs the wheels into fresh virtual environments', check: () => Boolean(pythonWith('venv, ensurepip')), apt: ['python3-venv'] },
};

/** Every tool any suite needs (what .ci/run installs). */
export const ALL_TOOLS = Object.keys(TOOLS);

/** The tools of `names` that are missing now. */
export function missingTools(names) {
  if (process.platform !== 'linux') return [];
  return [...new Set(names)].filter((name) => {
    const tool = TOOLS[name];
    if (!tool) throw new Error(`unknown tool ${name}; known: ${ALL_TOOLS.join(', ')}`);
    return !tool.check();
  });
}

/** The apt-get command that installs `names`. */
export function installCommand(names, { sudo = process.getuid?.() !== 0 } = {}) {
  const packages = [...new Set(names.flatMap((name) => TOOLS[name].apt))];
  return `${sudo ? 'sudo ' : ''}apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

function canInstall() {
  if (process.platform !== 'linux' || !hasCommand('apt-get')) return { ok: false, why: 'apt-get is not available here' };
  if (process.getuid?.() === 0) return { ok: true, prefix: [] };
  if (hasCommand('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return { ok: true, prefix: ['sudo', '-n'] };
  return { ok: false, why: 'this is not root and sudo asks for a password' };
}

/**
 * Makes sure the tools `names` are present: installs the missing ones with apt-get when it can (unless `install`
 * is false). Resolves { missing: [names still missing], command: 'apt-get install ...' or undefined, installed }.
 * Progress goes to `log` (stdout by default); apt's own output goes to artifacts/ci/apt.log.
 */
export function ensureTools(names, { install = true, log = (line) => console.log(line), timeoutMs = 15 * 60_000 } = {}) {
  pythonCache.clear();
  let missing = missingTools(names);
  if (missing.length === 0) return { missing: [], installed: [] };
  const packages = [...new Set(missing.flatMap((name) => TOOLS[name].apt))];
  const how = canInstall();
  if (install && how.ok) {
    log(`Installing system packages for ${missing.join(', ')}: apt-get install ${packages.join(' ')} (log: artifacts/ci/apt.log)`);
    const logDir = join(ROOT, 'artifacts', 'ci');
    mkdirSync(logDir, { recursive: true });
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const [command, ...prefix] = [...how.prefix, 'apt-get'];
    const apt = (args) => spawnSync(command, [...prefix, ...args], { env, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
    const update = apt(['update', '-q']);
    const result = update.status === 0 ? apt(['install', '-y', '-q', '--no-install-recommends', ...packages]) : update;
    writeFileSync(join(logDir, 'apt.log'), `${update.stdout ?? ''}${update.stderr ?? ''}${result === update ? '' : `${result.stdout ?? ''}${result.stderr ?? ''}`}`);
    if (result.status !== 0) {
      log(`apt-get failed (exit code ${result.status ?? result.signal ?? result.error?.message}); its last lines:`);
      log(`${result.stdout ?? ''}${result.stderr ?? ''}`.trimEnd().split('\n').slice(-15).join('\n'));
    }
    pythonCache.clear();
    const still = missingTools(names);
    const installed = missing.filter((name) => !still.includes(name));
    missing = still;
    if (missing.length === 0) return { missing, installed };
    return { missing, installed, command: installCommand(missing) };
  }
  const command = installCommand(missing);
  log(`Missing system packages for ${missing.map((name) => `${name} (${TOOLS[name].why})`).join(', ')}.`);
  log(`${install ? `They cannot be installed automatically (${how.why}). ` : ''}Install them with:\n  ${command}`);
  return { missing, installed: [], command };
}

function cli() {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2), { booleans: ['all', 'no-install', 'list', 'help'] });
  } catch (err) {
    console.error(`system-deps: ${err.message}`);
    process.exit(2);
  }
  if (flags.help || flags.list) {
    console.log('Usage: node scripts/system-deps.mjs [--all | TOOL...] [--no-install]\n\nTools (Debian packages) — why:');
    for (const [name, tool] of Object.entries(TOOLS)) console.log(`  ${name} (${tool.apt.join(' ')}) — ${tool.why}`);
    process.exit(0);
  }
  const names = flags.all || flags._.length === 0 ? ALL_TOOLS : flags._;
  const { missing, installed } = ensureTools(names, { install: !flags['no-install'] });
  if (installed?.length) console.log(`Installed: ${installed.join(', ')}.`);
  if (missing.length === 0) console.log(`System packages: everything present (${names.join(', ')}).`);
  process.exit(missing.length ? 1 : 0);
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) cli();
