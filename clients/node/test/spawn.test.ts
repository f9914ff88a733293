// spawnSidecar and the package itself: finding the executable, the process, initialize,
// dispose, and the two builds (ESM and CommonJS).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import * as esm from '@oauth-sidecar/client';
import { findSidecar, spawnSidecar, SidecarError } from '@oauth-sidecar/client';
import { PACKAGE, REPO, sidecarUnderTest } from './support/paths.js';
import { rejectsWith, sleep, startSidecar } from './support/harness.js';
import { SchemaTap, validators } from './support/schema.js';

const require = createRequire(import.meta.url);
const cjs = require('@oauth-sidecar/client') as typeof esm;
const EXE = process.platform === 'win32' ? '.exe' : '';

test('initialize over a spawned sidecar; dispose ends it with exit code 0', async (t) => {
  const sidecar = await startSidecar(t);
  const { client } = sidecar;
  const result = await client.initialize({ clientInfo: { name: 'node-client-tests', version: '1' } });
  assert.equal(result.serverInfo.name, 'oauth-sidecar');
  assert.equal(result.protocolVersion, '1.1');
  assert.ok(result.capabilities.grantTypes.includes('authorization_code'));
  assert.ok(result.capabilities.storage.includes('memory'));
  // No showDocument handler: the capability is declared false, so the sidecar opens browsers itself.
  assert.equal(sidecar.tap.sent('initialize')[0].params.capabilities.showDocument, false);

  // The child's stdout is a pipe of its own, never ours; its stderr (the log) is kept.
  const child = client.process!.child;
  assert.notEqual(child.stdout, null);
  assert.notEqual(child.stdout, process.stdout);
  await sidecar.close();
  assert.match(client.process!.stderr, /Initialized by node-client-tests 1/);
  assert.equal(client.closed, true);
  await client.dispose(); // twice is fine
});

test('stderr "ignore" keeps no text; a sidecar that dies fails the pending call', async (t) => {
  const { client, tap } = await startSidecar(t, { stderr: 'ignore' });
  assert.equal(client.process!.child.stderr, null);
  const server = await client.startCallbackServer({ port: 0, scheme: 'http' });
  const waiting = client.waitForCallback({ flowId: server.flowId });
  await sleep(300); // written and waiting (a write after the kill would fail with -32099 instead)
  const closed = new Promise<void>((resolve) => client.onClose(() => resolve()));
  client.process!.child.kill('SIGKILL');
  const err = await rejectsWith(waiting, -32097); // vscode-jsonrpc: pending response rejected, connection disposed
  assert.ok(err instanceof SidecarError);
  await closed;
  assert.equal(client.closed, true);
  assert.equal(client.process!.stderr, '');
  tap.assertClean();
});

test('findSidecar: options.path, OAUTH_SIDECAR_PATH, the platform package, repository AOT, Release, Debug, PATH', () => {
  const root = mkdtempSync(join(tmpdir(), 'sidecar-find-'));
  try {
    // A fake repository with a package inside it, as clients/node sits in this one, and a PATH folder.
    const pkg = join(root, 'clients', 'node');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name": "@oauth-sidecar/client"}');
    writeFileSync(join(root, 'OAuthSidecar.sln'), '');
    const file = (path: string, mode = 0o755) => {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, '');
      chmodSync(path, mode);
      return path;
    };
    const onPath = join(root, 'path-bin');
    const find = (env: NodeJS.ProcessEnv = {}) => findSidecar({ packageRoot: pkg, env: { PATH: onPath, ...env }, platform: 'linux-x64' });

    assert.throws(() => find(), (err: Error) => {
      // The message names the platform package to install, and what was looked for.
      assert.match(err.message, /oauth-sidecar was not found\. Install the sidecar for this platform with `npm install @oauth-sidecar\/linux-x64`/);
      assert.match(err.message, /OAUTH_SIDECAR_PATH/);
      assert.match(err.message, /@oauth-sidecar\/linux-x64 \(not installed\)/);
      return true;
    });
    const pathExe = file(join(onPath, 'oauth-sidecar'));
    assert.deepEqual(find(), { command: pathExe, args: [], path: pathExe, kind: 'path' });
    const debug = file(join(root, 'src', 'OAuthSidecar', 'bin', 'Debug', 'net10.0', 'oauth-sidecar.dll'));
    assert.deepEqual(find(), { command: 'dotnet', args: [debug], path: debug, kind: 'debug' });
    const release = file(join(root, 'src', 'OAuthSidecar', 'bin', 'Release', 'net10.0', 'oauth-sidecar.dll'));
    assert.equal(find().path, release);
    const aot = file(join(root, 'artifacts', 'aot', `oauth-sidecar${EXE}`));
    assert.deepEqual(find(), { command: aot, args: [], path: aot, kind: 'aot' });
    // The platform package, installed beside the client (node_modules above it), resolved as require() would.
    const platformDir = join(root, 'node_modules', '@oauth-sidecar', 'linux-x64');
    file(join(platformDir, 'package.json'), 0o644);
    writeFileSync(join(platformDir, 'package.json'), '{"name": "@oauth-sidecar/linux-x64", "version": "0.0.0"}');
    const packaged = file(join(platformDir, 'bin', `oauth-sidecar${EXE}`), 0o644); // an unpacker lost the x bit
    assert.deepEqual(find(), { command: packaged, args: [], path: packaged, kind: 'package' });
    if (process.platform !== 'win32') assert.equal(statSync(packaged).mode & 0o111, 0o111, 'the executable bit is put back');
    assert.equal(findSidecar({ packageRoot: pkg, env: {}, platform: 'darwin-arm64' }).kind, 'aot', 'another platform\'s package is not used');

    const other = file(join(root, 'elsewhere', 'oauth-sidecar.dll'));
    assert.deepEqual(find({ OAUTH_SIDECAR_PATH: other }), { command: 'dotnet', args: [other], path: other, kind: 'env' });
    assert.equal(findSidecar({ packageRoot: pkg, env: { OAUTH_SIDECAR_PATH: other }, path: aot }).kind, 'option');
    assert.throws(() => find({ OAUTH_SIDECAR_PATH: join(root, 'missing') }), /OAUTH_SIDECAR_PATH points to .*missing, which does not exist/);
    assert.throws(() => findSidecar({ path: join(root, 'missing') }), /options\.path points to/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('outside a repository the build folders are not searched: the platform package, then PATH', () => {
  const root = mkdtempSync(join(tmpdir(), 'sidecar-find-'));
  try {
    const pkg = join(root, 'project', 'node_modules', '@oauth-sidecar', 'client');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name": "@oauth-sidecar/client"}');
    // A build folder beside it that a repository would have: ignored without OAuthSidecar.sln.
    mkdirSync(join(root, 'artifacts', 'aot'), { recursive: true });
    writeFileSync(join(root, 'artifacts', 'aot', `oauth-sidecar${EXE}`), '');
    const find = (PATH: string) => findSidecar({ packageRoot: pkg, env: { PATH }, platform: 'linux-x64' });
    assert.throws(() => find(join(root, 'nowhere')), /npm install @oauth-sidecar\/linux-x64/);
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'oauth-sidecar'), '');
    chmodSync(join(bin, 'oauth-sidecar'), 0o755);
    assert.equal(find(bin).kind, 'path');
    const platformDir = join(root, 'project', 'node_modules', '@oauth-sidecar', 'linux-x64');
    mkdirSync(join(platformDir, 'bin'), { recursive: true });
    writeFileSync(join(platformDir, 'package.json'), '{"name": "@oauth-sidecar/linux-x64", "version": "0.0.0"}');
    writeFileSync(join(platformDir, 'bin', `oauth-sidecar${EXE}`), '');
    assert.deepEqual(find(bin), { command: join(platformDir, 'bin', `oauth-sidecar${EXE}`), args: [], path: join(platformDir, 'bin', `oauth-sidecar${EXE}`), kind: 'package' });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('findSidecar without options looks in this repository', () => {
  const found = findSidecar({ env: {} });
  assert.ok(['aot', 'release', 'debug'].includes(found.kind), found.kind);
  assert.ok(found.path.startsWith(REPO), found.path);
  assert.equal(cjs.findSidecar({ env: {} }).path, found.path);
});

test('spawnSidecar reports a sidecar that cannot start', async () => {
  await assert.rejects(spawnSidecar({ path: join(PACKAGE, 'package.json') }), /Could not start the sidecar/);
});

test('the CommonJS build works on its own and shares SidecarError with the ESM build', async (t) => {
  assert.deepEqual(Object.keys(cjs).sort(), Object.keys(esm).sort());
  assert.notEqual(cjs.SidecarError, esm.SidecarError); // two builds, two classes...
  const fromCjs = new cjs.SidecarError(-32601, 'x');
  const fromEsm = new esm.SidecarError(-32601, 'y');
  for (const err of [fromCjs, fromEsm]) {
    // ...and instanceof works across them.
    assert.ok(err instanceof esm.SidecarError);
    assert.ok(err instanceof cjs.SidecarError);
    assert.ok(err instanceof Error);
    assert.ok(esm.isSidecarError(err, -32601));
  }
  assert.ok(!(new Error('plain') instanceof esm.SidecarError));
  assert.ok(!({ code: 1 } instanceof cjs.SidecarError));

  const tap = new SchemaTap(validators(), ['noSuchMethod']);
  const client = await cjs.spawnSidecar({ path: sidecarUnderTest(), args: ['--storage', 'memory'], onMessage: tap.observe });
  t.after(() => client.dispose());
  assert.equal((await client.initialize()).protocolVersion, '1.1');
  await assert.rejects(client.sendRequest('noSuchMethod'), (err) => err instanceof esm.SidecarError && err.code === -32601);
  await client.dispose();
  assert.deepEqual(await client.process!.exited, { code: 0, signal: null });
  tap.assertClean();
});
