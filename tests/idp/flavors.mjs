// The same oidc-provider configured the way Okta, Auth0, Keycloak and GitLab are (`startProvider({ flavor })`,
// `server.mjs --provider NAME`): their issuer paths and endpoint paths, their native-app clients with the redirect
// rule each one applies, and how each issues refresh tokens. Each entry cites the provider's documentation it follows.
// The default flavor, `oidc`, is the test provider as it always was (README.md); other flavors do not change it.
import { API_RESOURCE, API_SCOPES, clients as oidcClients } from './clients.mjs';
import { ROUTES } from './routes.mjs';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'];

/** A public native client with PKCE; `redirectUris` are matched exactly when the flavor says so. */
const nativeClient = (clientId, redirectUris) => ({
  client_id: clientId,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE],
  response_types: ['code'],
  redirect_uris: redirectUris,
});

export const FLAVORS = {
  oidc: {
    issuerPath: '',
    routes: ROUTES,
    scopes: [...OIDC_SCOPES, 'api:read', 'api:write'],
    api: { resource: API_RESOURCE, scopes: API_SCOPES },
    clients: () => oidcClients,
    exactRedirects: false,
    refreshTokens: 'offline_access',
  },

  // https://developer.okta.com/docs/reference/api/oidc/ (endpoints under the custom authorization server's issuer,
  // /oauth2/default/v1/...), https://developer.okta.com/docs/guides/refresh-tokens/main/ (offline_access), and
  // "Sign-in redirect URIs" matched exactly (https://developer.okta.com/docs/guides/sign-into-web-app-redirect/).
  okta: {
    issuerPath: '/oauth2/default',
    routes: {
      ...ROUTES,
      authorization: '/v1/authorize',
      token: '/v1/token',
      device_authorization: '/v1/device/authorize',
      code_verification: '/v1/device',
      revocation: '/v1/revoke',
      introspection: '/v1/introspect',
      jwks: '/v1/keys',
      userinfo: '/v1/userinfo',
      end_session: '/v1/logout',
      pushed_authorization_request: '/v1/par',
    },
    scopes: OIDC_SCOPES,
    clients: ({ redirectUri }) => [nativeClient('okta-native-app', [redirectUri])],
    redirectHost: 'localhost',
    exactRedirects: true,
    refreshTokens: 'offline_access',
  },

  // https://auth0.com/docs/api/authentication (/authorize, /oauth/token, /oauth/device/code, /oauth/revoke,
  // /.well-known/jwks.json), https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens (`audience`),
  // the issuer with a trailing slash (https://auth0.com/docs/secure/tokens/id-tokens/validate-id-tokens), and
  // "Allowed Callback URLs" matched exactly.
  auth0: {
    issuerPath: '/',
    routes: {
      ...ROUTES,
      authorization: '/authorize',
      token: '/oauth/token',
      device_authorization: '/oauth/device/code',
      code_verification: '/activate',
      revocation: '/oauth/revoke',
      introspection: '/oauth/introspect',
      jwks: '/.well-known/jwks.json',
      userinfo: '/userinfo',
      end_session: '/v2/logout',
      pushed_authorization_request: '/oauth/par',
    },
    scopes: [...OIDC_SCOPES, 'read:messages'],
    api: { resource: 'https://api.sidecar.test', scopes: 'read:messages' },
    audienceAsResource: true,
    clients: ({ redirectUri }) => [nativeClient('auth0-native-app', [redirectUri])],
    redirectHost: 'localhost',
    exactRedirects: true,
    refreshTokens: 'offline_access',
  },

  // https://www.keycloak.org/securing-apps/oidc-layers (endpoints under /realms/{realm}/protocol/openid-connect/),
  // refresh tokens with every sign-in, and "Valid redirect URIs" matched exactly without a wildcard
  // (https://www.keycloak.org/docs/latest/server_admin/#_oidc_clients).
  keycloak: {
    issuerPath: '/realms/sidecar',
    routes: {
      ...ROUTES,
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      device_authorization: '/protocol/openid-connect/auth/device',
      code_verification: '/device',
      revocation: '/protocol/openid-connect/revoke',
      introspection: '/protocol/openid-connect/token/introspect',
      jwks: '/protocol/openid-connect/certs',
      userinfo: '/protocol/openid-connect/userinfo',
      end_session: '/protocol/openid-connect/logout',
      pushed_authorization_request: '/protocol/openid-connect/ext/par/request',
    },
    scopes: OIDC_SCOPES,
    clients: ({ redirectUri }) => [nativeClient('keycloak-public-app', [redirectUri])],
    redirectHost: '127.0.0.1',
    exactRedirects: true,
    refreshTokens: 'always',
  },

  // https://docs.gitlab.com/api/oauth2/ (/oauth/authorize, /oauth/token, /oauth/revoke, /oauth/authorize_device;
  // refresh tokens with every token), https://docs.gitlab.com/integration/openid_connect_provider/ (discovery at the
  // root, /oauth/discovery/keys, /oauth/userinfo), https://docs.gitlab.com/api/users/#for-non-administrator-users
  // (GET /api/v4/user); loopback redirect URIs on any port (RFC 8252 §7.3).
  gitlab: {
    issuerPath: '',
    routes: {
      ...ROUTES,
      authorization: '/oauth/authorize',
      token: '/oauth/token',
      device_authorization: '/oauth/authorize_device',
      code_verification: '/oauth/device',
      revocation: '/oauth/revoke',
      introspection: '/oauth/introspect',
      jwks: '/oauth/discovery/keys',
      userinfo: '/oauth/userinfo',
      end_session: '/oauth/logout',
      pushed_authorization_request: '/oauth/par',
    },
    scopes: [...OIDC_SCOPES, 'read_user', 'api'],
    clients: () => [nativeClient('gitlab-app', ['http://127.0.0.1/callback'])],
    exactRedirects: false,
    refreshTokens: 'always',
    userApi: '/api/v4/user',
  },
};

export const FLAVOR_NAMES = Object.keys(FLAVORS);

/**
 * GitLab's GET /api/v4/user (https://docs.gitlab.com/api/users/): the user the access token (Authorization: Bearer)
 * belongs to, as { id, username, name, state, ... }; 401 {"message":"401 Unauthorized"} otherwise.
 */
export function userApi(provider, path) {
  return async (req, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const accessToken = token && await provider.AccessToken.find(token).catch(() => undefined);
    if (!accessToken || accessToken.isExpired) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"401 Unauthorized"}');
      return;
    }
    const ids = { alice: 1, bob: 2 };
    const sub = accessToken.accountId;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      id: ids[sub] ?? 99, username: sub, name: `${sub[0].toUpperCase()}${sub.slice(1)} Example`, state: 'active', web_url: `${path}/${sub}`,
    }));
  };
}
