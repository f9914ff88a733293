// The statically registered clients. Add new clients here (private_key_jwt, password grant,
// assertion grants...): each entry is plain oidc-provider client metadata.
//
// Loopback redirect URIs are registered without a port: provider.mjs makes a loopback URI match
// on ANY port (http and https alike), because the sidecar under test binds port 0.
import { createPublicKey } from 'node:crypto';
import { fixture } from './fixtures.mjs';

const LOOPBACK_HOSTS = ['127.0.0.1', '[::1]', 'localhost'];

/** `path` on every loopback host, over http and https, e.g. http://127.0.0.1/callback. */
function loopbackUris(path) {
  return ['http', 'https'].flatMap((scheme) => LOOPBACK_HOSTS.map((host) => `${scheme}://${host}${path}`));
}

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';
export const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
export const SAML2_BEARER = 'urn:ietf:params:oauth:grant-type:saml2-bearer';

/** The public JWK of a private key in fixtures/, with its kid, alg and use. */
function publicJwk(file, kid, alg) {
  return { ...createPublicKey(fixture(file)).export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

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
  {
    // private_key_jwt (RFC 7523 §2.2) with fixtures/client-rsa.key.pem.
    ...common,
    client_id: 'jwt-app',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS256',
    jwks: { keys: [publicJwk('client-rsa.key.pem', 'client-rsa', 'RS256')] },
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
  },
  {
    // private_key_jwt with fixtures/client-ec.key.pem.
    ...common,
    client_id: 'jwt-ec-app',
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    jwks: { keys: [publicJwk('client-ec.key.pem', 'client-ec', 'ES256')] },
    grant_types: ['client_credentials', 'authorization_code', 'refresh_token'],
  },
  {
    // Resource owner password credentials (RFC 6749 §4.3); no browser, so no redirect URIs.
    client_id: 'password-app',
    client_secret: 'password-secret',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['password', 'refresh_token'],
    response_types: [],
    redirect_uris: [],
  },
  {
    // JWT (RFC 7523) and SAML 2.0 (RFC 7522) bearer assertions as authorization grants.
    client_id: 'assertion-app',
    client_secret: 'assertion-secret',
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: [JWT_BEARER, SAML2_BEARER],
    response_types: [],
    redirect_uris: [],
  },
];

/** The resource server (RFC 8707) that client credentials default to; its tokens are JWTs. */
export const API_RESOURCE = 'urn:sidecar:api';
export const API_SCOPES = 'api:read api:write';
