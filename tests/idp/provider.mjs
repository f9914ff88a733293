// startProvider(): an oidc-provider 8 instance plus the /__test control API on one
// 127.0.0.1 port (HTTP, or HTTPS in TLS mode). server.mjs is the command-line wrapper; Node tests
// import this directly.
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

import { findAccount, scopeClaims } from './accounts.mjs';
import { FLAVORS, userApi } from './flavors.mjs';
import { acceptableMetadata, installLoopbackRule } from './loopback.mjs';
import { audienceAsResource } from './middleware.mjs';
import { freePort } from './free-port.mjs';
import { countRequests, createStats } from './stats.mjs';
import { devicePolling } from './device-polling.mjs';
import { checkLogin, keepOfflineAccess } from './middleware.mjs';
import { deviceFlowPages, renderError } from './pages.mjs';
import { controlApi, introspect } from './control.mjs';
import { fixture, fixturePath } from './fixtures.mjs';
import { initialKeys, signingKeys } from './signing-keys.mjs';
import { idTokenMutation } from './id-token-mutation.mjs';
import { tokenResponseMutation } from './token-response-mutation.mjs';
import { httpRequest } from './http-client.mjs';
import { registerGrants } from './grants.mjs';
import { ACR, recordLoginAcr } from './step-up.mjs';
import { dpopParConfiguration, parRules, requireDpopProof } from './dpop-par.mjs';
import { RESOURCE_PREFIX, resourceServer } from './resource-server.mjs';

export { ROUTES } from './routes.mjs';

const DAY = 24 * 60 * 60;

/** What getResourceServerInfo answers for the flavor's API (urn:sidecar:api by default): JWT access tokens. */
const apiResourceServer = (settings, api) => ({
  scope: api.scopes,
  audience: api.resource,
  accessTokenFormat: 'jwt',
  accessTokenTTL: settings.accessTokenTtl,
});

function configuration(settings, flavor, clients, dpopPar, keys) {
  const api = flavor.api ?? FLAVORS.oidc.api;
  return {
    clients: clients.map((client) => acceptableMetadata({ ...client, ...dpopPar.clientMetadata })),
    // Fresh keys on every start (signing-keys.mjs): RSA-2048 for RS256 (the default), P-256 for ES256.
    jwks: { keys },
    findAccount,
    claims: scopeClaims,
    scopes: flavor.scopes,
    // RFC 9470 step-up: ID tokens carry the login's acr (step-up.mjs).
    acrValues: Object.values(ACR),
    conformIdTokenClaims: false, // profile and email claims go into the ID token too
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    routes: flavor.routes,
    pkce: { methods: ['S256'], required: (ctx, client) => client.clientAuthMethod === 'none' },
    rotateRefreshToken: true,
    // Most providers issue a refresh token for offline_access; Keycloak and GitLab with every sign-in.
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && (flavor.refreshTokens === 'always' || code.scopes.has('offline_access')),
    ttl: {
      AccessToken: () => settings.accessTokenTtl,
      ClientCredentials: () => settings.accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * DAY,
      Grant: 14 * DAY,
      Session: 14 * DAY,
    },
    ...(dpopPar.enabledJWA ? { enabledJWA: dpopPar.enabledJWA } : {}),
    features: {
      ...dpopPar.features, // dPoP and pushedAuthorizationRequests (dpop-par.mjs)
      devInteractions: { enabled: true }, // the built-in login and consent forms
      deviceFlow: { enabled: true, ...deviceFlowPages },
      revocation: { enabled: true },
      // Public clients may only introspect their own tokens (oidc-provider's default rule).
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx, client, token) => client.clientAuthMethod !== 'none'
          || token.clientId === client.clientId,
      },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Client credentials without `resource` get a token for the API; other grants without it
        // get an opaque token for the userinfo endpoint (oidc-provider's behaviour).
        defaultResource: async (ctx, client, oneOf) => oneOf
          ?? (ctx.oidc.params?.grant_type === 'client_credentials' ? api.resource : undefined),
        // A resource granted at the authorization endpoint need not be repeated at the token endpoint.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (ctx, resource) => {
          if (resource !== api.resource) throw new errors.InvalidTarget(`unknown resource ${resource}`);
          return apiResourceServer(settings, api);
        },
      },
    },
    renderError,
    clientBasedCORS: () => true,
  };
}

/**
 * metadata: 'rfc8414' — an OAuth 2.0 authorization server without OpenID Connect discovery: the OIDC document
 * answers 404 and the same metadata is served at the RFC 8414 address, so a client's fallback is exercised.
 */
function rfc8414Only(app) {
  return (req, res) => {
    const path = req.url.split('?')[0];
    if (path === '/.well-known/openid-configuration') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
      return;
    }
    if (path === '/.well-known/oauth-authorization-server') req.url = '/.well-known/openid-configuration';
    app(req, res);
  };
}

/**
 * Starts the provider. Options: port (0 = any free port), deviceInterval (seconds, default 5),
 * accessTokenTtl (seconds, default 3600), metadata ('oidc' or 'rfc8414', see rfc8414Only), tls (serve HTTPS with
 * fixtures/server.cert.pem, which fixtures/ca.cert.pem signed), flavor ('oidc', the default, or 'okta', 'auth0',
 * 'keycloak', 'gitlab': flavors.mjs), redirectPort (the exact port of a flavor's registered redirect URI; a free one
 * when 0 or absent), dpop ('off' (default), 'on', 'nonce': DPoP with server nonces required), requireDpop (every
 * client gets dpop_bound_access_tokens), par ('hidden' (default: served, not in the metadata), 'advertised',
 * 'required'), parTtl (seconds a request_uri lives; 0 = 60). Resolves to { issuer, port, control, close(), ... };
 * with tls also caFile (absolute path) and ca (its PEM text); with a flavor other than oidc also clientId and
 * redirectUri (the registered one).
 */
export async function startProvider({
  port = 0, deviceInterval = 5, accessTokenTtl = 3600, tls = false, metadata = 'oidc', flavor: flavorName = 'oidc', redirectPort = 0,
  dpop = 'off', requireDpop = false, par = 'hidden', parTtl = 0,
} = {}) {
  const flavor = FLAVORS[flavorName];
  if (!flavor) throw new Error(`unknown flavor "${flavorName}"; known: ${Object.keys(FLAVORS).join(', ')}`);
  // Changed by POST /__test/config.
  const settings = {
    slowDown: 0, deviceInterval, accessTokenTtl, idTokenMutation: 'none', tokenResponseMutation: 'none', parTtl, resourceNonce: false,
  };
  const dpopPar = dpopParConfiguration({ dpop, requireDpop, par });
  const stats = createStats();
  const ca = tls ? fixture('ca.cert.pem') : undefined;

  // Listen first: the issuer needs the port the OS chose.
  let handle = (req, res) => res.writeHead(503).end();
  const server = tls
    ? createHttpsServer({ key: fixture('server.key.pem'), cert: fixture('server.cert.pem') }, (req, res) => handle(req, res))
    : createServer((req, res) => handle(req, res));
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${server.address().port}`;
  const issuer = `${origin}${flavor.issuerPath}`; // Auth0's ends with a slash
  const base = issuer.replace(/\/$/, ''); // where the flavor's routes live
  const redirectUri = flavor.redirectHost
    ? `http://${flavor.redirectHost}:${redirectPort || await freePort()}/callback`
    : undefined;
  const clients = flavor.clients({ redirectUri });
  const routes = flavor.routes;

  try {
    const provider = new Provider(issuer, configuration(settings, flavor, clients, dpopPar, await initialKeys()));
    const keys = signingKeys(provider);
    recordLoginAcr(provider);
    const api = flavor.api ?? FLAVORS.oidc.api;
    // Before installLoopbackRule(), which builds the clients: their grant_types must be known by then.
    registerGrants(provider, {
      issuer,
      tokenEndpoint: `${base}${routes.token}`,
      api: { resource: api.resource, scopes: new Set(api.scopes.split(' ')), info: () => apiResourceServer(settings, api) },
    });
    await installLoopbackRule(provider, clients, { exact: flavor.exactRedirects });
    // provider.use() puts these in front of oidc-provider's routes, the first one outermost.
    provider.use(countRequests(stats, routes));
    provider.use(idTokenMutation(settings, routes, keys));
    provider.use(tokenResponseMutation(settings, routes));
    provider.use(devicePolling(settings, routes));
    provider.use(checkLogin());
    provider.use(keepOfflineAccess(routes));
    if (flavor.audienceAsResource) provider.use(audienceAsResource(routes));
    provider.use(parRules({ par, settings, routes }));
    provider.use(requireDpopProof({ requireDpop, routes }));

    const app = provider.callback();
    const control = controlApi({
      issuer: base, routes, settings, stats, keys, ca,
    });
    const serve = metadata === 'rfc8414' ? rfc8414Only(app) : app;
    const users = flavor.userApi ? userApi(provider, origin) : undefined;
    const mount = flavor.issuerPath.replace(/\/$/, '');
    const resource = resourceServer({
      issuer,
      settings,
      introspect: (token) => introspect(base, routes, { token }, ca),
      jwks: async () => JSON.parse((await httpRequest(`${base}${routes.jwks}`, { ca })).text),
    });
    handle = (req, res) => {
      if (/^\/__test(\/|$|\?)/.test(req.url)) return control(req, res);
      if (req.url.startsWith(RESOURCE_PREFIX)) return resource(req, res);
      if (users && req.url.split('?')[0] === flavor.userApi) return users(req, res);
      // A provider whose issuer has a path serves its routes under it (oidc-provider's mounting rule).
      if (mount && (req.url === mount || req.url.startsWith(`${mount}/`) || req.url.startsWith(`${mount}?`))) {
        req.originalUrl = req.url;
        req.url = req.url.slice(mount.length) || '/';
      }
      return serve(req, res);
    };

    return {
      issuer,
      port: server.address().port,
      control: `${origin}/__test`,
      ...(tls ? { caFile: fixturePath('ca.cert.pem'), ca } : {}),
      ...(flavorName !== 'oidc' ? { clientId: clients[0].client_id, ...(redirectUri ? { redirectUri } : {}) } : {}),
      flavor: flavorName,
      provider,
      keys,
      settings,
      stats,
      close: () => closeServer(server),
    };
  } catch (err) {
    await closeServer(server);
    throw err;
  }
}

function closeServer(server) {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
