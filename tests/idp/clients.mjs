// The statically registered clients. Add new clients here (private_key_jwt, password grant,
// assertion grants...): each entry is plain oidc-provider client metadata.
//
// Loopback redirect URIs are registered without a port: provider.mjs makes a loopback URI match
// on ANY port (http and https alike), because the sidecar under test binds port 0.

const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]', 'localhost'];

/** `path` on every loopback host, over http and https, e.g. http://127.0.0.1/callback. */
function loopbackUris(path) {
  return ['http', 'https'].flatMap((scheme) => LOOPBACK_HOSTS.map((host) => `${scheme}://${host}${path}`));
}

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

// What every browser-based client shares.
const common = {
  response_types: ['code'],
  redirect_uris: loopbackUris('/callback'),
  post_logout_redirect_uris: loopbackUris('/logout'),
};

export const clients = [
  {
    // A public client: no secret, PKCE (S256) required.
    ...common,
    client_id: 'native-app',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', DEVICE_CODE],
  },
  {
    ...common,
    client_id: 'confidential-app',
    client_secret: 'confidential-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  },
  {
    ...common,
    client_id: 'post-app',
    client_secret: 'post-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
  },
];

/** The resource server (RFC 8707) that client credentials default to; its tokens are JWTs. */
export const API_RESOURCE = 'urn:sidecar:api';
export const API_SCOPES = 'api:read api:write';
