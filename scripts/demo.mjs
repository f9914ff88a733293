#!/usr/bin/env node
// npm run demo [-- --interactive] [-- --verbose]
//
// Starts the bundled test provider (tests/idp) and the sidecar, and drives the sidecar over
// JSON-RPC (vscode-jsonrpc, LSP framing on stdio): sign-in with the authorization code flow,
// sign-in with the device flow, a refresh that rotates the refresh token, then a summary.
// By default a headless user (the provider's control API) plays the browser; with
// --interactive you sign in yourself in a real browser (alice / alice-password).
//
// Options:
//   --interactive   print the authorization URL and the device code for a person, and wait
//   --open          (with --interactive) let the sidecar open the system browser too
//   --verbose       forward the sidecar's and the provider's stderr, show its log messages
//   --no-build      never build the solution, even when the Release build looks out of date
//   --timeout S     give up when the sign-ins take more than S seconds (default 120; 900 with
//                   --interactive); installing and building before them are not counted
//
// OAUTH_SIDECAR_PATH=/path/to/oauth-sidecar (or a .dll) chooses the sidecar to run.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  DLL_PATH, buildDotnet, ensureNodeModules, findSidecar, isOutOfDate, parseFlags, redact, relative,
  killChildren, startIdp, tail, tokenPreview, prefixLines,
} from './lib.mjs';

let flags;
try {
  flags = parseFlags(process.argv.slice(2), { booleans: ['interactive', 'open', 'verbose', 'no-build', 'help'], strings: ['timeout'] });
} catch (err) {
  console.error(`demo: ${err.message} (try --help)`);
  process.exit(2);
}
if (flags.help) {
  console.log('Usage: npm run demo [-- --interactive [--open]] [-- --verbose] [-- --no-build] [-- --timeout SECONDS]');
  process.exit(0);
}
const interactive = Boolean(flags.interactive);
const verbose = Boolean(flags.verbose);
const timeoutSeconds = Number(flags.timeout ?? (interactive ? 900 : 120));

const SCOPES = ['openid', 'profile', 'email', 'offline_access'];
const say = (text = '') => console.log(text);
const step = (text) => say(`\n▸ ${text}`);
const ok = (text) => say(`  ✓ ${text}`);
const info = (text) => say(`    ${text}`);

class DemoError extends Error {}

const state = { idp: null, child: null, connection: null, sidecarStderr: '', cleaning: null, childExit: null };

async function main() {
  say(interactive ? 'OAuth Sidecar demo (interactive)' : 'OAuth Sidecar demo');

  // 1. What we need: npm packages, a sidecar build.
  await ensureNodeModules({ quiet: !verbose });
  const sidecar = findSidecar();
  if (sidecar.kind === 'dll' && !flags['no-build'] && isOutOfDate(DLL_PATH)) {
    say(`Building the sidecar (dotnet build -c Release; the first time takes a minute or two)...`);
    await buildDotnet('Release', { quiet: !verbose });
  } else if (sidecar.kind === 'aot' && isOutOfDate(sidecar.path)) {
    say(`Note: ${sidecar.label} is older than the sources (rebuild with \`npm run build\`, or delete it to use the Release build).`);
  }
  if (!existsSync(sidecar.path)) throw new DemoError(`${sidecar.label} does not exist; build it with \`npm run build\`.`);
  // The time limit covers the provider, the sidecar and the sign-ins, not the install and build above.
  startTimeLimit();
  const { createMessageConnection, StreamMessageReader, StreamMessageWriter, ResponseError } = (await import('vscode-jsonrpc/node.js')).default;

  // 2. The provider.
  const idp = await startIdp(['--device-interval', interactive ? '2' : '1'], { verbose });
  state.idp = idp;
  say(`Test provider: ${idp.issuer}`);

  // 3. The sidecar, over stdio.
  const child = spawn(sidecar.command, sidecar.args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  state.child = child;
  state.childExit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  child.once('error', (err) => { state.spawnError = err; });
  child.stderr.on('data', (d) => {
    if (verbose) process.stderr.write(prefixLines(String(d), '[sidecar] '));
    else state.sidecarStderr = (state.sidecarStderr + d).slice(-6000);
  });
  child.stdin.on('error', () => { /* the sidecar went away; the pending request reports it */ });

  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  state.connection = connection;
  const refreshUpdates = [];
  const waiters = [];
  connection.onNotification('window/logMessage', ({ type, message }) => {
    // With --verbose the same records arrive on stderr; otherwise show errors and warnings only.
    if (!verbose && (type === 1 || type === 2)) info(`[sidecar ${type === 1 ? 'error' : 'warning'}] ${redact(message)}`);
  });
  connection.onNotification('callbackReceived', ({ method, path }) => info(`… the loopback server got the redirect (${method} ${path})`));
  connection.onNotification('deviceFlowPending', ({ attempt, error, nextPollSeconds }) =>
    info(`… poll ${attempt}: ${error}, next poll in ${nextPollSeconds} s`));
  connection.onNotification('tokensObtained', ({ grantType, scopes }) => {
    if (verbose) info(`… tokensObtained (${grantType}; ${scopes.join(' ')})`);
  });
  connection.onNotification('refreshTokenUpdated', (params) => {
    refreshUpdates.push(params);
    waiters.splice(0).filter((isDone) => !isDone()).forEach((w) => waiters.push(w));
  });
  connection.onNotification('refreshTokenRemoved', ({ reason }) => info(`… refresh token removed: ${reason}`));
  connection.onRequest('window/showDocument', async ({ uri }) => {
    info(`(the sidecar asked to open ${uri})`);
    return { success: false };
  });
  connection.onClose(() => { state.connectionClosed = true; });
  connection.onError(([err]) => { if (verbose) info(`[rpc] ${err?.message ?? err}`); });
  connection.listen();

  const call = async (method, params) => {
    try {
      return await Promise.race([
        connection.sendRequest(method, params),
        state.childExit.then(({ code, signal }) => {
          throw new DemoError(`the sidecar exited (${signal ?? `code ${code}`}) during ${method}.`);
        }),
      ]);
    } catch (err) {
      if (err instanceof DemoError) throw err;
      if (state.spawnError) throw new DemoError(`could not start the sidecar (${sidecar.label}): ${state.spawnError.message}`);
      // A dead sidecar shows up as a write error first; say what really happened.
      const exit = await Promise.race([state.childExit, sleep(500).then(() => null)]);
      if (exit) throw new DemoError(`the sidecar exited (${exit.signal ?? `code ${exit.code}`}) during ${method}.`);
      const code = err instanceof ResponseError ? ` (JSON-RPC error ${err.code})` : '';
      throw new DemoError(`${method} failed${code}: ${err.message}`);
    }
  };
  const waitForRefreshUpdate = (count, ms) => new Promise((resolve) => {
    if (refreshUpdates.length >= count) return resolve(true);
    const timer = setTimeout(() => resolve(false), ms);
    waiters.push(() => {
      if (refreshUpdates.length < count) return false;
      clearTimeout(timer);
      resolve(true);
      return true;
    });
  });

  const init = await call('initialize', { clientInfo: { name: 'oauth-sidecar-demo', version: '1.0' } });
  say(`Sidecar: ${init.serverInfo?.name ?? 'oauth-sidecar'} ${init.serverInfo?.version ?? ''} (${sidecar.label}), protocol ${init.protocolVersion ?? '?'}`);

  const client = await call('createClient', { issuer: idp.issuer, clientId: 'native-app', scopes: SCOPES });
  const cfg = client.serverConfiguration ?? {};
  say(`Client native-app registered (discovery: token endpoint ${cfg.tokenEndpoint ?? '?'})`);
  const results = [];

  // 4. Authorization code flow (PKCE, loopback redirect).
  step('Sign-in with the authorization code flow (PKCE, loopback redirect)');
  const flow = await call('initiateAuthCodeFlow', { clientHandle: client.clientHandle, scopes: SCOPES, openBrowser: interactive && Boolean(flags.open) });
  info(`redirect URI: ${flow.redirectUri}`);
  const pendingCode = call('obtainTokenByAuthCodeFlow', { flowId: flow.flowId });
  pendingCode.catch(() => {}); // handled below
  if (interactive) {
    say('\n  Open this URL in a browser on this machine and sign in as alice / alice-password:');
    say(`\n  ${flow.authUri}\n`);
    say(`  Waiting for the redirect (until ${new Date(flow.expiresAt * 1000).toLocaleTimeString()})...`);
  } else {
    const u = new URL(flow.authUri);
    const q = u.searchParams;
    info(`authorization URL: ${u.origin}${u.pathname}?client_id=${q.get('client_id')}&scope=${q.get('scope')}&code_challenge_method=${q.get('code_challenge_method')}&…`);
    info('the headless user (the provider\'s control API) signs in as alice and consents...');
    try {
      await controlCall(idp, '/authorize', { url: flow.authUri, login: 'alice' });
    } catch (err) {
      await call('cancelFlow', { flowId: flow.flowId }).catch(() => {});
      throw err;
    }
  }
  const codeTokens = await pendingCode;
  ok(`signed in as ${codeTokens.account ?? codeTokens.idTokenClaims?.sub ?? '?'}; scopes: ${codeTokens.scopes.join(' ')}`);
  results.push(['authorization code', codeTokens]);

  // 5. Device flow (RFC 8628).
  step('Sign-in with the device flow (RFC 8628)');
  const device = await call('initiateDeviceFlow', { clientHandle: client.clientHandle, scopes: SCOPES });
  const pendingDevice = call('obtainTokenByDeviceFlow', { flowId: device.flowId });
  pendingDevice.catch(() => {});
  if (interactive) {
    say(`\n  On any device, go to ${device.verificationUri} and enter the code:  ${device.userCode}`);
    if (device.verificationUriComplete) say(`  (or open ${device.verificationUriComplete})`);
    say(`  Sign in as alice / alice-password. Waiting (the code expires in ${device.expiresIn} s)...\n`);
  } else {
    info(`user code ${device.userCode} at ${device.verificationUri} (expires in ${device.expiresIn} s, poll every ${device.interval} s)`);
    // Let the sidecar poll once or twice before "the user" approves.
    await sleep(Math.min(1500 * Math.max(device.interval, 1), 4000));
    info(`the headless user enters ${device.userCode} and approves...`);
    try {
      await controlCall(idp, '/device', { userCode: device.userCode, login: 'alice' });
    } catch (err) {
      await call('cancelFlow', { flowId: device.flowId }).catch(() => {});
      throw err;
    }
  }
  const deviceTokens = await pendingDevice;
  ok(`signed in as ${deviceTokens.account ?? deviceTokens.idTokenClaims?.sub ?? '?'}; scopes: ${deviceTokens.scopes.join(' ')}`);
  results.push(['device code', deviceTokens]);

  // 6. Refresh (the provider rotates refresh tokens on every use).
  step('Refresh');
  const oldRefresh = deviceTokens.refreshToken;
  if (!oldRefresh) throw new DemoError('the device flow returned no refresh token (offline_access was asked for).');
  const before = refreshUpdates.length;
  const refreshed = await call('refresh', { clientHandle: client.clientHandle, refreshToken: oldRefresh });
  const notified = await waitForRefreshUpdate(before + 1, 3000);
  const update = notified ? refreshUpdates[refreshUpdates.length - 1] : undefined;
  const newRefresh = refreshed.refreshToken;
  ok(`new access token ${tokenPreview(refreshed.accessToken)}`);
  if (!update) throw new DemoError('no refreshTokenUpdated notification arrived after the refresh.');
  if (!newRefresh || newRefresh === oldRefresh) throw new DemoError('the refresh token did not rotate.');
  if (update.refreshToken !== newRefresh) throw new DemoError('refreshTokenUpdated carried a different refresh token than the refresh result.');
  ok(`refresh token rotated: ${tokenPreview(oldRefresh)} → ${tokenPreview(newRefresh)} (refreshTokenUpdated notification${update.account ? ` for ${update.account}` : ''})`);
  results.push(['refresh', refreshed]);

  // 7. Summary.
  step('Summary (tokens redacted)');
  printTable(
    ['grant', 'account', 'scopes', 'expires at', 'access token', 'refresh token', 'ID token'],
    results.map(([grant, t]) => [
      grant,
      t.account ?? t.idTokenClaims?.sub ?? '—',
      t.scopes.join(' '),
      t.expiresAt ? new Date(t.expiresAt * 1000).toISOString().replace('.000Z', 'Z') : '—',
      tokenPreview(t.accessToken),
      tokenPreview(t.refreshToken),
      tokenPreview(t.idToken),
    ]),
  );
}

async function controlCall(idp, path, body) {
  let res;
  try {
    res = await fetch(`${idp.control}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new DemoError(`the provider's control API (${path}) did not answer: ${err.message}`);
  }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new DemoError(`the headless user failed (${path}, HTTP ${res.status}): ${json.error ?? 'no details'}`);
  return json;
}

function printTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `  ${cells.map((c, i) => String(c).padEnd(widths[i])).join('  ')}`.trimEnd();
  say(line(headers));
  say(line(widths.map((w) => '─'.repeat(w))));
  for (const row of rows) say(line(row));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** shutdown + exit, close stdin, then make sure both processes are gone. */
function cleanup() {
  state.cleaning ??= (async () => {
    const { connection, child, idp } = state;
    if (child && child.exitCode === null && child.signalCode === null) {
      if (connection && !state.connectionClosed) {
        try {
          const shutdown = connection.sendRequest('shutdown');
          shutdown.catch(() => {});
          await Promise.race([shutdown, sleep(3000), state.childExit]);
          await connection.sendNotification('exit').catch(() => {});
        } catch { /* already gone */ }
      }
      try { child.stdin.end(); } catch { /* closed */ }
      const exited = await Promise.race([state.childExit.then(() => true), sleep(3000).then(() => false)]);
      if (!exited) {
        child.kill('SIGKILL');
        await Promise.race([state.childExit, sleep(1000)]);
      }
    }
    try { connection?.dispose(); } catch { /* disposed */ }
    if (idp) await idp.close().catch(() => {});
  })();
  return state.cleaning;
}

let finished = false;
async function finish(code, message) {
  if (finished) return;
  finished = true;
  if (message) {
    console.error(`\n✗ Demo failed: ${message}`);
    if (!verbose && state.sidecarStderr.trim()) {
      console.error(`\nLast lines of the sidecar's stderr:\n${redact(tail(state.sidecarStderr, 15)).trimEnd()}`);
    }
    if (!verbose) console.error('(run `npm run demo -- --verbose` for the full logs)');
  }
  await Promise.all([cleanup(), killChildren(1000)]);
  if (code === 0) say(`\nDone: ${interactive ? 'you signed in' : 'alice signed in'} twice and refreshed once.`);
  process.exit(code);
}

// A write to a sidecar that already exited fails with EPIPE; the pending request reports it.
process.on('unhandledRejection', (err) => {
  if (err?.code === 'EPIPE' || err?.code === 'ERR_STREAM_DESTROYED') return;
  finish(1, verbose ? (err?.stack ?? String(err)) : (err?.message ?? String(err)));
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (finished) return;
    finished = true;
    console.error(`\n(${signal}: stopping)`);
    Promise.all([cleanup(), killChildren(1000)]).finally(() => process.exit(130));
  });
}
function startTimeLimit() {
  const overall = setTimeout(
    () => finish(1, `the sign-ins timed out after ${timeoutSeconds} s${interactive ? ' (nobody signed in?)' : ''}.`),
    timeoutSeconds * 1000,
  );
  overall.unref();
}

main().then(
  () => finish(0),
  (err) => finish(1, err instanceof DemoError || !verbose ? (err?.message ?? String(err)) : (err?.stack ?? String(err))),
);
