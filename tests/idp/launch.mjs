// What server.mjs and pool.mjs share: the command-line options of a test provider (or emulator) and of a
// forward proxy, parsed into a running instance and the JSON "ready" line that describes it.
//
// startIdpFromArgs(['--dpop', '--device-interval', '1']) resolves to { instance, ready } where `instance` has
// close() and `ready` is what server.mjs prints ({ issuer, port, control, caFile?, provider?, authority?,
// clientId?, clientSecret?, redirectUri?, tenantId? }). Bad options reject with an ArgsError (exit code 2 there,
// HTTP 400 in the pool). startProxyFromArgs(['--port', '0']) resolves to { instance, ready: { proxy } }.
import { parseArgs } from 'node:util';
import { startProvider } from './provider.mjs';
import { startProxy } from './forward-proxy.mjs';
import { startGitHub } from './emulators/github.mjs';
import { startGoogle } from './emulators/google.mjs';
import { startEntra } from './emulators/entra.mjs';

const EMULATORS = { github: startGitHub, google: startGoogle, entra: startEntra };
const FLAVORED = ['okta', 'auth0', 'keycloak', 'gitlab'];

/** Options that are wrong as given (not a failure to start). */
export class ArgsError extends Error {}

/** The options every launcher takes; `ignore-stdin` only means something to a process of its own. */
const IDP_OPTIONS = {
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
};

const PROXY_OPTIONS = { port: { type: 'string' }, 'ignore-stdin': { type: 'boolean' } };

function parse(argv, options) {
  try {
    return parseArgs({ args: argv, options }).values;
  } catch (err) {
    throw new ArgsError(err.message);
  }
}

function integer(value, name, min) {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min) throw new ArgsError(`--${name} needs an integer >= ${min}, not "${value}"`);
  return Number(value);
}

/** Parses server.mjs's options (without `--pool`); returns the parsed values, for `ignore-stdin`. */
export function parseIdpArgs(argv) {
  const args = parse(argv, IDP_OPTIONS);
  const providerName = args.provider;
  if (providerName !== undefined && !EMULATORS[providerName] && !FLAVORED.includes(providerName)) {
    throw new ArgsError(`--provider must be one of ${[...Object.keys(EMULATORS), ...FLAVORED].join(', ')}, not "${providerName}"`);
  }
  return args;
}

/** Starts the test provider (or an emulator) that `argv` describes; resolves to { instance, ready, args }. */
export async function startIdpFromArgs(argv) {
  const args = parseIdpArgs(argv);
  const providerName = args.provider;
  const deviceInterval = integer(args['device-interval'], 'device-interval', 0);
  const options = EMULATORS[providerName] ? null : {
    port: integer(args.port, 'port', 0),
    deviceInterval,
    accessTokenTtl: integer(args['access-token-ttl'], 'access-token-ttl', 1),
    tls: args.tls === true,
    metadata: args['rfc8414-only'] ? 'rfc8414' : 'oidc',
    flavor: providerName ?? 'oidc',
    redirectPort: integer(args['redirect-port'], 'redirect-port', 0),
    dpop: args['dpop-nonce'] ? 'nonce' : (args.dpop ? 'on' : 'off'),
    requireDpop: args['require-dpop'] === true,
    par: args['require-par'] ? 'required' : (args.par ? 'advertised' : 'hidden'),
    parTtl: integer(args['par-ttl'], 'par-ttl', 1),
  };
  const idp = await (options ? startProvider(options) : EMULATORS[providerName]({ deviceInterval: deviceInterval ?? 5 }));

  const ready = { issuer: idp.issuer, port: idp.port, control: idp.control };
  if (idp.caFile) ready.caFile = idp.caFile;
  if (providerName) {
    Object.assign(ready, { provider: providerName, authority: idp.authority ?? idp.issuer, clientId: idp.clientId });
    if (idp.clientSecret) ready.clientSecret = idp.clientSecret;
    if (idp.redirectUri) ready.redirectUri = idp.redirectUri;
    if (idp.tenantId) ready.tenantId = idp.tenantId; // Entra: the signed-in user's tenant
  }
  return { instance: idp, ready, args };
}

/** Parses proxy.mjs's options. */
export function parseProxyArgs(argv) {
  const args = parse(argv, PROXY_OPTIONS);
  if (args.port !== undefined && (!/^\d+$/.test(args.port) || Number(args.port) > 65535)) {
    throw new ArgsError(`--port needs an integer from 0 to 65535, not "${args.port}"`);
  }
  return args;
}

/** Starts the forward proxy that `argv` describes; resolves to { instance, ready: { proxy }, args }. */
export async function startProxyFromArgs(argv) {
  const args = parseProxyArgs(argv);
  const proxy = await startProxy({ port: Number(args.port ?? 0) });
  return { instance: proxy, ready: { proxy: proxy.url }, args };
}

/**
 * Ends the process on SIGTERM/SIGINT and, unless `ignoreStdin`, when stdin reaches end-of-file (so it dies with
 * the test process that started it), after `close()`; `name` prefixes the line on stderr.
 */
export function stopWith(name, close, { ignoreStdin = false } = {}) {
  let stopping = false;
  const stop = (reason) => {
    if (stopping) return;
    stopping = true;
    console.error(`${name}: stopping (${reason})`);
    setTimeout(() => process.exit(0), 2000).unref(); // in case close() hangs
    close().then(() => process.exit(0), () => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  if (!ignoreStdin) {
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin error'));
    process.stdin.resume();
  }
}
