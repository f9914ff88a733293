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
// Many providers in one process, each started on request: pool.mjs.
import { ArgsError, startIdpFromArgs, stopWith } from './launch.mjs';

// oidc-provider prints notices with console.info; keep stdout for the one JSON line.
console.log = console.error;
console.info = console.error;

const { instance: idp, ready, args } = await startIdpFromArgs(process.argv.slice(2)).catch((err) => {
  console.error(`test-idp: ${err instanceof ArgsError ? err.message : `could not start: ${err.message}`}`);
  process.exit(2);
});

stopWith('test-idp', () => idp.close(), { ignoreStdin: args['ignore-stdin'] === true });

// Announce only once the handlers are in place: a parent may send SIGTERM as soon as it reads the line.
process.stdout.write(`${JSON.stringify(ready)}\n`);
console.error(`test-idp: listening on ${idp.issuer}`);
