#!/usr/bin/env node
// npm test [-- --only dotnet|idp|node|python|release|<suite name>[,...]] [-- --no-build] [-- --no-install] [-- --list]
//          [-- --jobs N]
//
// Runs every test suite of the repository and ends with ONE line, the last line on stdout:
//   N passed, N failed
// (summed over every suite; CI reads only that line; the line before it counts the skipped tests).
// Exit code 1 when a test failed or a runner crashed (a crash, a build failure, a missing result
// file, a missing suite or a suite that collected no test counts as 1 failed).
//
// The solution build, the NativeAOT publish and the suites run side by side, at most --jobs at once (default 3 on
// this 2-core kind of machine: the build and the publish wait on the disk and the suites on other processes much of
// the time), each as soon as what it needs is ready: the suites with `needsBuild` after the build, those that
// `runsSidecar` after the publish too, and those drive the NativeAOT executable (what users run, and it starts in
// milliseconds) when this machine can publish it. The output of each suite is printed whole when it ends (live with
// --jobs 1).
//
// Suites live in SUITES below: a name, a group (for --only), the path that must exist, a command,
// a parser that turns the run into { passed, failed, skipped }, and the system tools it needs
// (scripts/system-deps.mjs installs them with apt-get when it can, or prints the command). A tool a
// suite cannot run without makes it skipped with the reason, or failed in CI (CI=true); a test that
// is skipped is shown and counted as skipped, never as passed.
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AOT_PATH, DLL_PATH, ROOT, aotBlocker, buildDotnet, ensureNodeModules, isOutOfDate, killChildren, parseFlags, publishAot, run,
} from './lib.mjs';
import { ensureTools, installCommand, pythonWith } from './system-deps.mjs';

const RESULTS = join(ROOT, 'artifacts', 'test-results');
// What the suites run: the solution without the benchmarks (npm run bench builds those).
const TEST_PROJECTS = join(ROOT, 'OAuthSidecar.Tests.slnf');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const MINUTE = 60_000;
const CI = Boolean(process.env.CI) && !/^(0|false|no)$/i.test(process.env.CI);

/** `dotnet test` of one project, results read from its TRX file. */
function dotnetSuite(name, project, uses = []) {
  const csproj = `tests/${project}/${project}.csproj`;
  const trx = join(RESULTS, `${project}.trx`);
  return {
    name,
    uses,
    group: 'dotnet',
    title: `C# ${project}`,
    path: csproj,
    needsBuild: true,
    project: csproj,
    timeoutMs: 20 * MINUTE,
    before: () => rmSync(trx, { force: true }),
    command: () => ['dotnet', ['test', csproj, '-c', 'Release', '--no-build', '--nologo',
      '--logger', `trx;LogFileName=${project}.trx`, '--results-directory', RESULTS,
      // A test that hangs fails (with a dump) instead of holding the whole run.
      '--blame-hang-timeout', '5m']],
    parse: () => parseTrx(trx),
  };
}

/** `node --test DIR`: readable spec output on stdout, TAP in a file for the counts. */
function nodeTestSuite(name, group, title, dir, { timeoutMs, extraArgs = [], ...rest }) {
  const tap = join(RESULTS, `${name}.tap`);
  return {
    name,
    group,
    title,
    path: dir,
    timeoutMs,
    ...rest,
    before: () => rmSync(tap, { force: true }),
    command: () => [process.execPath, ['--test', ...extraArgs, '--test-reporter=spec', '--test-reporter-destination=stdout',
      '--test-reporter=tap', `--test-reporter-destination=${tap}`, `${dir}/`]],
    parse: () => parseNodeTestSummary(readResult(tap)),
  };
}

const SUITES = [
  dotnetSuite('dotnet-core', 'OAuthSidecar.Core.Tests'),
  // Real clients of the loopback server (curl, Chromium) and a real Secret Service for the keyring store.
  { ...dotnetSuite('dotnet-sidecar', 'OAuthSidecar.Tests', ['curl', 'chromium', 'dbus', 'gnome-keyring', 'libsecret']), runsSidecar: true },
  nodeTestSuite('idp', 'idp', 'test provider (tests/idp)', 'tests/idp/test', { timeoutMs: 10 * MINUTE }),
  nodeTestSuite('scripts', 'node', 'the test runner (scripts/test)', 'scripts/test', { timeoutMs: 5 * MINUTE }),
  {
    name: 'node-client',
    group: 'node',
    title: 'Node client (clients/node)',
    path: 'clients/node/package.json',
    needsBuild: true,
    runsSidecar: true,
    timeoutMs: 15 * MINUTE,
    command: () => [NPM, ['test', '-w', 'clients/node']],
    parse: ({ stdout, stderr }) => parseNodeTestSummary(stdout + stderr),
  },
  {
    name: 'vscode-example',
    group: 'node',
    title: 'VS Code example extension (clients/vscode-example): tsc --noEmit',
    path: 'clients/vscode-example/package.json',
    timeoutMs: 5 * MINUTE,
    // It type-checks against clients/node/dist: after the node-client suite built it, without building it again
    // (--ignore-scripts skips the pretest build); on its own, its pretest builds it.
    after: ['node-client'],
    command: ({ selected }) => [NPM, ['test', '-w', 'clients/vscode-example', ...(selected.has('node-client') ? ['--ignore-scripts'] : [])]],
    // The type-check is one test: it passes, or it fails with tsc's "error TSnnnn" lines.
    parse: ({ code, stdout, stderr }) => {
      if (code === 0) return { passed: 1, failed: 0 };
      const errors = (stdout + stderr).match(/error TS\d+/g)?.length ?? 0;
      return { passed: 0, failed: 1, note: errors ? `${errors} type error(s)` : `exit code ${code}` };
    },
  },
  {
    name: 'python-client',
    group: 'python',
    title: 'Python client (clients/python)',
    path: 'clients/python',
    needsBuild: true,
    runsSidecar: true,
    timeoutMs: 15 * MINUTE,
    requires: ['pytest'],
    before: () => rmSync(join(RESULTS, 'python-client.xml'), { force: true }),
    command: () => [pythonWithPytest(), ['-m', 'pytest', 'clients/python', '-p', 'no:cacheprovider', '-q', '-rs',
      `--junitxml=${join(RESULTS, 'python-client.xml')}`]],
    env: { PYTHONDONTWRITEBYTECODE: '1' },
    // pytest's exit code 5: no test was collected, which is a failure (a suite that checks nothing).
    parse: ({ code }) => (code === 5 ? { passed: 0, failed: 1, note: 'no tests collected (pytest exit code 5)' } : parseJUnit(readResult(join(RESULTS, 'python-client.xml')))),
  },
  nodeTestSuite('release', 'release', 'npm run release, its outputs installed as a user would (tests/release)', 'tests/release', {
    // It packs the Release build (the dotnet tool), the NativeAOT executable (it removes OAUTH_SIDECAR_PATH and tests
    // what it packed) and clients/node/dist, which the node-client suite builds (its prebuild empties it first).
    needsBuild: true,
    needsAot: true,
    after: ['node-client'],
    timeoutMs: 45 * MINUTE,
    extraArgs: ['--test-concurrency=1'],
    // The test itself skips the native packages without clang (and fails in CI); the wheels need setuptools.
    requires: ['python-build', 'venv'],
    uses: ['clang', 'zlib', 'objdump'],
  }),
];

// ---------------------------------------------------------------------------------------------
// Result parsers. Each returns { passed, failed, skipped? } or throws (a crash).

function readResult(file) {
  if (!existsSync(file)) throw new Error(`no result file ${file.slice(ROOT.length + 1)}`);
  return readFileSync(file, 'utf8');
}

function attributes(tag) {
  const out = {};
  for (const [, name, value] of tag.matchAll(/([\w:-]+)\s*=\s*"([^"]*)"/g)) out[name] = value;
  return out;
}

/** A VSTest TRX file: <Counters total= executed= passed= failed= error= timeout= aborted= .../>. */
function parseTrx(file) {
  const tag = readResult(file).match(/<Counters\b[^>]*>/)?.[0];
  if (!tag) throw new Error(`no <Counters> in ${file.slice(ROOT.length + 1)}`);
  const a = attributes(tag);
  const n = (k) => Number(a[k] ?? 0) || 0;
  return {
    passed: n('passed'),
    failed: n('failed') + n('error') + n('timeout') + n('aborted'),
    skipped: Math.max(0, n('total') - n('executed')),
  };
}

/** The summary of node:test, TAP (`# pass N`) or spec (`ℹ pass N`); the last one wins. */
function parseNodeTestSummary(text) {
  const last = (key) => {
    const all = [...text.matchAll(new RegExp(`^\\s*(?:#|ℹ)\\s+${key}\\s+(\\d+)\\s*$`, 'gm'))];
    return all.length ? Number(all[all.length - 1][1]) : undefined;
  };
  const passed = last('pass');
  const failed = last('fail');
  if (passed === undefined || failed === undefined) throw new Error('no "# pass N" / "# fail N" summary in the output');
  return { passed, failed: failed + (last('cancelled') ?? 0), skipped: (last('skipped') ?? 0) + (last('todo') ?? 0) };
}

/** JUnit XML (pytest --junitxml): sums every <testsuite tests= failures= errors= skipped=>. */
function parseJUnit(xml) {
  const suites = [...xml.matchAll(/<testsuite\b[^>]*>/g)].map((m) => attributes(m[0]));
  if (suites.length === 0) throw new Error('no <testsuite> in the JUnit file');
  let passed = 0; let failed = 0; let skipped = 0;
  for (const s of suites) {
    const n = (k) => Number(s[k] ?? 0) || 0;
    failed += n('failures') + n('errors');
    skipped += n('skipped');
    passed += n('tests') - n('failures') - n('errors') - n('skipped');
  }
  return { passed, failed, skipped };
}

/** $PYTHON, else the first python3 that can import pytest (pyenv's or Debian's), else python3. */
function pythonWithPytest() {
  if (process.env.PYTHON) return process.env.PYTHON;
  return pythonWith('pytest, jsonschema') ?? pythonWith('pytest') ?? 'python3';
}

export { SUITES, limiter, machineCpuSeconds, parseTrx, parseNodeTestSummary, parseJUnit };

// ---------------------------------------------------------------------------------------------

const rows = []; // { name, passed, failed, skipped, note, seconds, skippedSuite }
const banner = (text) => console.log(`\n━━ ${text}`);

async function step(name, fn) {
  try {
    await fn();
    return true;
  } catch (err) {
    console.log(`\n✗ ${name}: ${err.message}`);
    rows.push({ name, passed: 0, failed: 1, note: `crashed: ${err.message.split('\n')[0]}` });
    return false;
  }
}

/** Project paths the test build builds (OAuthSidecar.Tests.slnf; forward slashes). */
function solutionProjects() {
  try {
    return JSON.parse(readFileSync(TEST_PROJECTS, 'utf8')).solution.projects.map((p) => p.replace(/\\/g, '/'));
  } catch {
    return [];
  }
}

async function runSuite(suite, { live = true, env, context = {} } = {}) {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  if (live) banner(`${suite.name}: ${suite.title}`);
  else console.log(`\n▸ ${suite.name} started${env?.OAUTH_SIDECAR_PATH ? ` (sidecar: ${env.OAUTH_SIDECAR_PATH.slice(ROOT.length + 1)})` : ''}`);
  suite.before?.();
  const [command, args] = suite.command(context);
  const result = await run(command, args, { capture: true, echo: live, env: { ...suite.env, ...env }, timeoutMs: suite.timeoutMs });
  if (!live) {
    banner(`${suite.name}: ${suite.title}`);
    process.stdout.write(result.stdout);
    if (result.stderr) process.stdout.write(result.stderr);
  }
  let counts;
  let note;
  try {
    counts = suite.parse(result);
    note = counts.note;
  } catch (err) {
    counts = { passed: 0, failed: 1 };
    note = `crashed (exit code ${result.code}${result.signal ? `, ${result.signal}` : ''}): ${err.message}`;
    if (result.code === 127) note = `crashed: could not run ${command} (${result.stderr.trim().split('\n').pop()})`;
  }
  if (!note && result.code !== 0 && counts.failed === 0) {
    counts.failed = 1;
    note = `exited with code ${result.code} but reported no failed test`;
  }
  // A suite that ran nothing checked nothing: that is a failure, never a pass.
  if (!note && counts.passed + counts.failed + (counts.skipped ?? 0) === 0) {
    counts.failed = 1;
    note = 'no test ran';
  }
  if (/timed out/.test(result.stderr.slice(-200))) note = `${note ? `${note}; ` : ''}timed out after ${suite.timeoutMs / MINUTE} min`;
  const row = { name: suite.name, passed: counts.passed, failed: counts.failed, skipped: counts.skipped, note, seconds: seconds() };
  rows.push(row);
  console.log(`\n${row.failed ? '✗' : '✓'} ${suite.name}: ${row.passed} passed, ${row.failed} failed${row.skipped ? `, ${row.skipped} skipped` : ''} (${row.seconds} s)${note ? ` — ${note}` : ''}`);
}

/**
 * Installs (or asks for) the system tools the selected suites use. Returns the names of suites that cannot run
 * for a missing tool they require, with the reason. A missing tool is never a pass: a suite without a tool it
 * requires is skipped with the reason (a failure in CI), and a tool some of a suite's tests use is listed in the
 * summary (its tests report themselves skipped), again a failure in CI.
 */
function systemTools(suites, { install }) {
  const wanted = [...new Set(suites.flatMap((s) => [...(s.requires ?? []), ...(s.uses ?? [])]))];
  if (wanted.length === 0) return new Map();
  const { missing, command } = ensureTools(wanted, { install, log: (line) => console.log(line) });
  const blocked = new Map();
  if (missing.length === 0) return blocked;
  for (const suite of suites) {
    const lacking = (suite.requires ?? []).filter((tool) => missing.includes(tool));
    if (lacking.length) blocked.set(suite.name, `needs ${lacking.join(', ')}: ${installCommand(lacking)}`);
  }
  const used = missing.filter((tool) => ![...blocked.values()].some((why) => why.includes(tool)));
  if (used.length) {
    rows.push({
      name: 'system tools',
      passed: 0,
      failed: CI ? 1 : 0,
      skipped: CI ? 0 : 1,
      note: `${CI ? 'missing in CI' : 'missing; the tests that use them report themselves skipped'}: ${used.join(', ')} (${command ?? installCommand(used)})`,
    });
  }
  return blocked;
}

/** Runs tasks with at most `limit` at once, in the order they were handed in. */
function limiter(limit) {
  let active = 0;
  const queue = [];
  const next = () => {
    while (active < Math.max(1, limit) && queue.length) {
      const { task, resolve, reject } = queue.shift();
      active++;
      Promise.resolve().then(task).then(resolve, reject).finally(() => {
        active--;
        next();
      });
    }
  };
  return (task) => new Promise((resolve, reject) => {
    queue.push({ task, resolve, reject });
    next();
  });
}

/**
 * The NativeAOT executable for the suites that run the sidecar (a promise of its path, or of undefined for the JIT
 * build): reused when newer than every source, else published in a slot of its own.
 */
function sidecarExecutable(runnable, { build, slot, analyzed }) {
  if (process.env.OAUTH_SIDECAR_PATH || !runnable.some((s) => s.runsSidecar || s.needsAot)) return Promise.resolve(undefined);
  const blocker = aotBlocker();
  if (blocker) {
    console.log(`\nThe suites run the JIT build of the sidecar: ${blocker}`);
    return Promise.resolve(undefined);
  }
  const fresh = () => existsSync(AOT_PATH) && !isOutOfDate(AOT_PATH);
  if (fresh() || !build) return Promise.resolve(fresh() ? AOT_PATH : undefined);
  return slot(async () => {
    banner('NativeAOT publish (the executable the suites drive; output on failure only)');
    const started = Date.now();
    // The solution build beside it runs the analyzers over the same sources.
    await step('NativeAOT publish', () => publishAot({ quiet: true, analyzers: !analyzed }));
    if (fresh()) {
      console.log(`\n✓ NativeAOT publish (${Math.round((Date.now() - started) / 1000)} s)`);
      return AOT_PATH;
    }
    console.log('\nThe suites run the JIT build of the sidecar: the NativeAOT publish failed.');
    return undefined;
  });
}

/** CPU seconds this machine spent so far, all processes (Linux /proc/stat), or undefined elsewhere. */
function machineCpuSeconds() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait
    const busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + (fields[7] ?? 0);
    return busy / 100;
  } catch {
    return undefined;
  }
}

async function main(selected, { build = true, install = true, jobs = 3 } = {}) {
  const wallStart = Date.now();
  const cpuStart = machineCpuSeconds();
  mkdirSync(RESULTS, { recursive: true });
  const present = [];
  for (const suite of selected) {
    if (existsSync(join(ROOT, suite.path))) present.push(suite);
    // A suite that should be there and is not is a failure, never a silent skip.
    else rows.push({ name: suite.name, passed: 0, failed: 1, note: `missing: ${suite.path} does not exist` });
  }

  const blocked = systemTools(present, { install });

  if (present.some((s) => ['idp', 'node', 'release'].includes(s.group)) || present.length === 0) {
    await step('npm install', () => ensureNodeModules());
  }

  const live = jobs <= 1;
  const slot = limiter(jobs);
  const runnable = present.filter((suite) => !blocked.has(suite.name));

  // The solution build (Release): what the C# suites run, and the sidecar of the others without NativeAOT.
  const built = runnable.some((s) => s.needsBuild) && build
    ? slot(async () => {
      banner(`dotnet build OAuthSidecar.Tests.slnf -c Release${live ? '' : ' (output on failure only)'}`);
      const started = Date.now();
      const ok = await step('dotnet build', () => buildDotnet('Release', { quiet: !live, project: TEST_PROJECTS }));
      if (ok) console.log(`\n✓ dotnet build (${Math.round((Date.now() - started) / 1000)} s)`);
      return ok;
    })
    : Promise.resolve(true);

  // The NativeAOT executable the suites that run the sidecar drive, published beside the build (publishAot keeps its
  // intermediate files apart) unless it is newer than every source. Without clang, or when the publish fails, they
  // use the JIT build and the output says so; OAUTH_SIDECAR_PATH names another executable for all of them.
  const aot = sidecarExecutable(runnable, { build, slot, analyzed: runnable.some((s) => s.needsBuild) && build });
  const inSolution = solutionProjects();
  const context = { selected: new Set(runnable.map((suite) => suite.name)) };

  const start = async (suite) => {
    await null; // every suite is in `finished` before any looks up what it comes after
    if (blocked.has(suite.name)) {
      const why = blocked.get(suite.name);
      rows.push(CI
        ? { name: suite.name, passed: 0, failed: 1, note: `not run in CI: it ${why}` }
        : { name: suite.name, passed: 0, failed: 0, skipped: 1, note: `skipped: it ${why}`, skippedSuite: true });
      return;
    }
    if (suite.needsBuild && !(await built)) {
      rows.push({ name: suite.name, passed: 0, failed: 0, note: 'not run: the build failed', skippedSuite: true });
      return;
    }
    await Promise.all((suite.after ?? []).map((name) => finished.get(name)));
    const sidecar = suite.runsSidecar || suite.needsAot ? await aot : undefined;
    await slot(async () => {
      // A test project that is not in the solution (yet) is built on its own.
      if (suite.project && !inSolution.includes(suite.project) && build) {
        banner(`dotnet build ${suite.project} -c Release (not in OAuthSidecar.Tests.slnf)`);
        const ok = await step(`${suite.name} build`, () => buildDotnet('Release', { project: join(ROOT, suite.project) }));
        if (!ok) {
          rows.push({ name: suite.name, passed: 0, failed: 0, note: 'not run: its build failed', skippedSuite: true });
          return;
        }
      }
      // Without a fresh NativeAOT executable they run the Release build, named, so that no client's own lookup
      // picks an older executable from artifacts/aot.
      const path = sidecar ?? (existsSync(DLL_PATH) ? DLL_PATH : undefined);
      await runSuite(suite, { live, env: path && suite.runsSidecar ? { OAUTH_SIDECAR_PATH: path } : undefined, context });
    });
  };
  // Each suite starts when what it needs is ready; `after` names suites that must have ended first.
  const finished = new Map();
  for (const suite of present) finished.set(suite.name, start(suite));
  await Promise.all(finished.values());


  // Summary in SUITES order; steps that are not suites (system tools, npm install, the solution build) first.
  const order = (r) => SUITES.findIndex((s) => r.name === s.name || r.name.startsWith(`${s.name} `));
  rows.sort((x, y) => order(x) - order(y));
  const passed = rows.reduce((n, r) => n + r.passed, 0);
  const failed = rows.reduce((n, r) => n + r.failed, 0);
  const skipped = rows.reduce((n, r) => n + (r.skipped ?? 0), 0);
  const cpu = cpuStart === undefined ? '' : `, ${Math.round(machineCpuSeconds() - cpuStart)} s of CPU on ${os.availableParallelism()} cores`;
  banner(`Summary (${Math.round((Date.now() - wallStart) / 1000)} s${cpu})`);
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const counts = r.skippedSuite ? '—' : `${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}`;
    console.log(`  ${r.failed ? '✗' : r.skippedSuite || (r.skipped && !r.passed) ? '·' : '✓'} ${r.name.padEnd(width)}  ${counts}${r.note ? `  (${r.note})` : ''}`);
  }
  console.log(`${skipped} skipped`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

function cli() {
  let flags;
  try {
    flags = parseFlags(process.argv.slice(2), { booleans: ['no-build', 'no-install', 'list', 'help'], strings: ['jobs'], multi: ['only'] });
    if (flags.jobs !== undefined && !/^[1-9]\d?$/.test(flags.jobs)) throw new Error(`--jobs needs a number from 1 to 99, not "${flags.jobs}"`);
  } catch (err) {
    console.error(`test: ${err.message}`);
    process.exit(2);
  }
  if (flags.help || flags.list) {
    console.log('Usage: npm test [-- --only GROUP|SUITE[,...]] [-- --no-build] [-- --no-install] [-- --jobs N]\n'
      + '  --no-install: never run apt-get for missing system packages (print the command instead)\n'
      + '  --jobs N: at most N of the build, the NativeAOT publish and the suites at once (default 3; 1 = one after\n'
      + '            the other, with live output)\n\nSuites (group: name — path):');
    for (const s of SUITES) console.log(`  ${s.group}: ${s.name} — ${s.path}${existsSync(join(ROOT, s.path)) ? '' : ' (missing: counts as 1 failed)'}`);
    process.exit(0);
  }
  const only = (flags.only ?? []).flatMap((v) => v.split(/[,|\s]+/)).filter(Boolean);
  const unknown = only.filter((o) => !SUITES.some((s) => s.name === o || s.group === o));
  if (unknown.length) {
    const known = [...new Set(SUITES.flatMap((s) => [s.group, s.name]))];
    console.error(`test: unknown suite or group: ${unknown.join(', ')}. Known: ${known.join(', ')}`);
    process.exit(2);
  }
  const selected = only.length ? SUITES.filter((s) => only.includes(s.name) || only.includes(s.group)) : SUITES;

  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => {
      console.error(`\n(${signal}: stopping the test runners)`);
      killChildren(1000).finally(() => process.exit(130));
    });
  }

  main(selected, { build: !flags['no-build'], install: !flags['no-install'], jobs: Number(flags.jobs ?? 3) }).then(
    (code) => { process.exitCode = code; },
    (err) => {
      console.error(err?.stack ?? String(err));
      console.log('0 passed, 1 failed');
      process.exitCode = 1;
    },
  );
}

// Run as a program (node scripts/test.mjs); imported, it only provides SUITES and the parsers.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) cli();
