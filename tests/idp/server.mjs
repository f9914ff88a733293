// Command line: node tests/idp/server.mjs [--port N] [--device-interval S] [--access-token-ttl S]
//                                         [--tls] [--rfc8414-only] [--dpop] [--dpop-nonce] [--require-dpop]
//                                         [--par] [--require-par] [--par-ttl S] [--ignore-stdin]
//                                         [--provider NAME [--redirect-port N]]
// Prints ONE JSON line on stdout once listening: {"issuer":...,"port":...,"control":...}, plus
// "caFile" with --tls (HTTPS with fixtures/server.cert.pem, signed by fixtures/ca.cert.pem).
// --provider github|google|entra starts that provider's emulator (emulators/); okta|auth0|keycloak|gitlab the test
// provider configured that provider's way (flavors.mjs). The line then also has "provider", "authority" (what a
// client gives as its preset's authority), "clientId", and "clientSecret" / "redirectUri" where the provider has them.
// Everything else goes to stderr. Exits on SIGTERM/SIGINT and when stdin reaches end-of-file
// (so it dies with the test process that started it), unless --ignore-stdin is given.
import { parseArgs } from 'node:util';
import { startProvider } from './provider.mjs';
import { startGitHub } from './emulators/github.mjs';
import { startGoogle } from './emulators/google.mjs';
import { startEntra } from './emulators/entra.mjs';

const EMULATORS = { github: startGitHub, google: startGoogle, entra: startEntra };
const FLAVORED = ['okta', 'auth0', 'keycloak', 'gitlab'];

// oidc-provider prints notices with console.info; keep stdout for the one JSON line.
console.log = console.error;
console.info = console.error;

function fail(message) {
  console.error(`test-idp: ${message}`);
  process.exit(2);
}

function integer(value, name, min) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) fail(`--${name} needs an integer >= ${min}, not "${value}"`);
  return Number(value);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      'device-interval': { type: 'string' },
      'access-token-ttl': { type: 'string' },
      tls: { type: 'boolean' },
      'rfc8414-only': { type: 'boolean' },
      dpop: { type: 'boolean' },
      'dpop-nonce': { type: 'boolean' },
      'require-dpop': { type: 'boolean' },
      par: { type: 'boolean' },
      'require-par': { type: 'boolean' },
      'par-ttl': { type: 'string' },
      'ignore-stdin': { type: 'boolean' },
      provider: { type: 'string' },
      'redirect-port': { type: 'string' },
    },
  }));
} catch (err) {
  fail(err.message);
}

const providerName = args.provider;
if (providerName !== undefined && !EMULATORS[providerName] && !FLAVORED.includes(providerName)) {
  fail(`--provider must be one of ${[...Object.keys(EMULATORS), ...FLAVORED].join(', ')}, not "${providerName}"`);
}
const idp = await (EMULATORS[providerName]
  ? EMULATORS[providerName]({ deviceInterval: integer(args['device-interval'], 'device-interval', 0) ?? 5 })
  : startProvider({
    port: integer(args.port, 'port', 0),
    deviceInterval: integer(args['device-interval'], 'device-interval', 0),
    accessTokenTtl: integer(args['access-token-ttl'], 'access-token-ttl', 1),
    tls: args.tls === true,
    metadata: args['rfc8414-only'] ? 'rfc8414' : 'oidc',
    flavor: providerName ?? 'oidc',
    redirectPort: integer(args['redirect-port'], 'redirect-port', 0),
    dpop: args['dpop-nonce'] ? 'nonce' : (args.dpop ? 'on' : 'off'),
    requireDpop: args['require-dpop'] === true,
    par: args['require-par'] ? 'required' : (args.par ? 'advertised' : 'hidden'),
    parTtl: integer(args['par-ttl'], 'par-ttl', 1),
  })).catch((err) => fail(`could not start: ${err.message}`));

let stopping = false;
function stop(reason) {
  if (stopping) return;
  stopping = true;
  console.error(`test-idp: stopping (${reason})`);
  setTimeout(() => process.exit(0), 2000).unref(); // in case close() hangs
  idp.close().then(() => process.exit(0));
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
if (!args['ignore-stdin']) {
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

// Announce only once the handlers are in place: a parent may send SIGTERM as soon as it reads the line.
const ready = { issuer: idp.issuer, port: idp.port, control: idp.control };
if (idp.caFile) ready.caFile = idp.caFile;
if (providerName) {
  Object.assign(ready, {
    provider: providerName, authority: idp.authority ?? idp.issuer, clientId: idp.clientId,
  });
  if (idp.clientSecret) ready.clientSecret = idp.clientSecret;
  if (idp.redirectUri) ready.redirectUri = idp.redirectUri;
  if (idp.tenantId) ready.tenantId = idp.tenantId; // Entra: the signed-in user's tenant
}
process.stdout.write(`${JSON.stringify(ready)}\n`);
console.error(`test-idp: listening on ${idp.issuer}`);
