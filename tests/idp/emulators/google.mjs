// An emulator of Google's OAuth 2.0 / OpenID Connect endpoints for installed apps, as documented in
//   "OAuth 2.0 for Mobile & Desktop Apps" https://developers.google.com/identity/protocols/oauth2/native-app
//     (loopback redirect on any port, PKCE, client_secret in the token request, access_type=offline for a refresh
//     token, prompt=consent to get one again, refresh answers without a new refresh token, revocation),
//   "OAuth 2.0 for TV and Limited-Input Device Applications" https://developers.google.com/identity/protocols/oauth2/limited-input-device
//     (POST /device/code with client_id as a form parameter; the answer names verification_url; polling errors
//     authorization_pending with HTTP 428 and slow_down with HTTP 403; only the allowed scopes),
//   "OpenID Connect" https://developers.google.com/identity/openid-connect/openid-connect (the discovery document; an
//     id_token's iss is https://accounts.google.com or accounts.google.com — here its issuer without the scheme),
//   "OAuth 2.0 Scopes for Google APIs" https://developers.google.com/identity/protocols/oauth2/scopes (email and
//     profile granted as https://www.googleapis.com/auth/userinfo.email and .profile).
// offline_access is not a Google scope: an authorization request with it shows Google's "Error 400: invalid_scope".
import { createHash } from 'node:crypto';
import {
  DEVICE_CODE_GRANT, deviceCodes, errorPage, pkceMatches, startEmulator, token,
} from './common.mjs';

/** A Desktop app client: its secret is not secret, but required. */
export const GOOGLE_CLIENTS = {
  '1234-desktop.apps.googleusercontent.com': { secret: 'GOCSPX-desktop-not-secret' },
};

const SCOPES = {
  openid: 'openid',
  email: 'https://www.googleapis.com/auth/userinfo.email',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
  'https://www.googleapis.com/auth/userinfo.email': 'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile': 'https://www.googleapis.com/auth/userinfo.profile',
  'https://www.googleapis.com/auth/drive.file': 'https://www.googleapis.com/auth/drive.file',
};
const DEVICE_SCOPES = new Set(['openid', 'email', 'profile', 'https://www.googleapis.com/auth/userinfo.email', 'https://www.googleapis.com/auth/userinfo.profile', 'https://www.googleapis.com/auth/drive.file']);
const USER = {
  sub: '110169484474386276334', email: 'alice@example.test', email_verified: true, name: 'Alice Example',
};

export function startGoogle({ deviceInterval = 5 } = {}) {
  return startEmulator({
    name: 'google',
    settings: { deviceInterval },
    setup: ({ base, settings, jwks, signIdToken }) => {
      const codes = new Map();
      const refreshTokens = new Map(); // refresh token -> { clientId, scopes }
      const consented = new Set(); // clientId: a refresh token was already issued (Google gives one on first consent)
      const devices = deviceCodes(settings, 1800);
      // The id_token's iss: Google's scheme-less spelling of the issuer (accounts.google.com for https://accounts.google.com).
      const idTokenIssuer = base.replace(/^https?:\/\//, '');

      const clientOf = (req) => {
        const id = req.form.client_id ?? req.basic?.id;
        const secret = req.form.client_secret ?? req.basic?.secret;
        return GOOGLE_CLIENTS[id] && GOOGLE_CLIENTS[id].secret === secret ? id : undefined;
      };
      const invalidClient = { status: 401, json: { error: 'invalid_client', error_description: 'The OAuth client was not found.' } };
      const granted = (scopes) => scopes.map((s) => SCOPES[s]).filter(Boolean);

      async function tokens(clientId, scopes, { refreshToken, nonce } = {}) {
        const accessToken = token('ya29.', 40);
        const body = {
          access_token: accessToken, expires_in: 3599, scope: granted(scopes).join(' '), token_type: 'Bearer',
        };
        if (refreshToken) body.refresh_token = refreshToken;
        if (scopes.includes('openid')) {
          const now = Math.floor(Date.now() / 1000);
          body.id_token = await signIdToken({
            iss: idTokenIssuer,
            azp: clientId,
            aud: clientId,
            ...USER,
            at_hash: createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url'),
            ...(nonce ? { nonce } : {}),
            iat: now,
            exp: now + 3600,
          });
        }
        return { status: 200, json: body };
      }

      function newRefreshToken(clientId, scopes) {
        const refreshToken = token('1//0g', 60);
        refreshTokens.set(refreshToken, { clientId, scopes });
        consented.add(clientId);
        return refreshToken;
      }

      return {
        approveDevice: (code, deny) => devices.approve(code, deny),
        routes: {
          'GET /.well-known/openid-configuration': () => ({
            status: 200,
            json: {
              issuer: base,
              authorization_endpoint: `${base}/o/oauth2/v2/auth`,
              device_authorization_endpoint: `${base}/device/code`,
              token_endpoint: `${base}/token`,
              userinfo_endpoint: `${base}/v1/userinfo`,
              revocation_endpoint: `${base}/revoke`,
              jwks_uri: `${base}/oauth2/v3/certs`,
              response_types_supported: ['code', 'token', 'id_token', 'code token', 'code id_token', 'token id_token', 'code token id_token', 'none'],
              subject_types_supported: ['public'],
              id_token_signing_alg_values_supported: ['RS256'],
              scopes_supported: ['openid', 'email', 'profile'],
              token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
              claims_supported: ['aud', 'email', 'email_verified', 'exp', 'family_name', 'given_name', 'iat', 'iss', 'name', 'picture', 'sub'],
              code_challenge_methods_supported: ['plain', 'S256'],
              grant_types_supported: ['authorization_code', 'refresh_token', DEVICE_CODE_GRANT, 'urn:ietf:params:oauth:grant-type:jwt-bearer'],
            },
          }),
          'GET /oauth2/v3/certs': () => ({ status: 200, json: jwks }),

          'GET /o/oauth2/v2/auth': (req) => {
            const q = req.query;
            if (!GOOGLE_CLIENTS[q.client_id]) return errorPage(401, 'Error 401: invalid_client', 'The OAuth client was not found.');
            // Desktop apps: a loopback redirect URI on any port, without registration.
            const redirect = URL.canParse(q.redirect_uri ?? '') ? new URL(q.redirect_uri) : undefined;
            if (redirect?.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(redirect.hostname)) {
              return errorPage(400, 'Error 400: redirect_uri_mismatch', 'You can\'t sign in to this app because it doesn\'t comply with Google\'s OAuth 2.0 policy.');
            }
            const scopes = (q.scope ?? '').split(' ').filter(Boolean);
            const unknown = scopes.filter((s) => !SCOPES[s]);
            if (unknown.length > 0 || scopes.length === 0) return errorPage(400, 'Error 400: invalid_scope', `Some requested scopes were invalid. {invalid=[${unknown.join(', ')}]}`);
            const to = new URL(q.redirect_uri);
            if (req.deny) {
              to.searchParams.set('error', 'access_denied');
            } else {
              const code = token('4/0A', 30);
              codes.set(code, {
                clientId: q.client_id, redirectUri: q.redirect_uri, scopes, challenge: q.code_challenge, nonce: q.nonce,
                // A refresh token with access_type=offline: on the first consent, or again with prompt=consent.
                offline: q.access_type === 'offline' && (!consented.has(q.client_id) || (q.prompt ?? '').split(' ').includes('consent')),
              });
              to.searchParams.set('code', code);
              to.searchParams.set('scope', granted(scopes).join(' '));
            }
            if (q.state) to.searchParams.set('state', q.state);
            return { status: 302, redirect: to.href };
          },

          'POST /device/code': (req) => {
            // client_id must be a form parameter here (Basic is not read).
            const clientId = req.form.client_id;
            if (!GOOGLE_CLIENTS[clientId]) return invalidClient;
            const scopes = (req.form.scope ?? '').split(' ').filter(Boolean);
            if (scopes.length === 0 || scopes.some((s) => !DEVICE_SCOPES.has(s))) return { status: 400, json: { error: 'invalid_scope' } };
            const entry = devices.issue({ clientId, scopes });
            return {
              status: 200,
              json: {
                device_code: entry.deviceCode, user_code: entry.userCode, verification_url: `${base}/device`, expires_in: 1800, interval: entry.interval,
              },
            };
          },

          'POST /token': async (req) => {
            const clientId = clientOf(req);
            if (!clientId) return invalidClient;
            const f = req.form;
            if (f.grant_type === 'authorization_code') {
              const code = codes.get(f.code);
              codes.delete(f.code);
              if (!code || code.clientId !== clientId || code.redirectUri !== f.redirect_uri || !(await pkceMatches(code.challenge, f.code_verifier))) {
                return { status: 400, json: { error: 'invalid_grant', error_description: 'Bad Request' } };
              }
              return tokens(clientId, code.scopes, { refreshToken: code.offline ? newRefreshToken(clientId, code.scopes) : undefined, nonce: code.nonce });
            }
            if (f.grant_type === 'refresh_token') {
              const grant = refreshTokens.get(f.refresh_token);
              if (!grant || grant.clientId !== clientId) return { status: 400, json: { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' } };
              const asked = (f.scope ?? '').split(' ').filter(Boolean);
              if (asked.some((s) => !grant.scopes.includes(s) && !grant.scopes.map((g) => SCOPES[g]).includes(s))) return { status: 400, json: { error: 'invalid_scope', error_description: 'Bad Request' } };
              return tokens(clientId, asked.length > 0 ? asked : grant.scopes); // no new refresh token: the old one stays valid
            }
            if (f.grant_type === DEVICE_CODE_GRANT) {
              const { outcome, entry } = devices.poll(f.device_code);
              if (outcome === 'unknown' || entry.clientId !== clientId) return { status: 400, json: { error: 'invalid_grant', error_description: 'Malformed auth code.' } };
              if (outcome === 'approved') return tokens(clientId, entry.scopes, { refreshToken: newRefreshToken(clientId, entry.scopes) });
              if (outcome === 'pending') return { status: 428, json: { error: 'authorization_pending', error_description: 'Precondition Required' } };
              if (outcome === 'slow_down') return { status: 403, json: { error: 'slow_down', error_description: 'Forbidden' } };
              if (outcome === 'denied') return { status: 403, json: { error: 'access_denied', error_description: 'Forbidden' } };
              return { status: 400, json: { error: 'expired_token', error_description: 'Bad Request' } };
            }
            return { status: 400, json: { error: 'unsupported_grant_type', error_description: `Invalid grant_type: ${f.grant_type}` } };
          },

          'POST /revoke': (req) => {
            const known = refreshTokens.delete(req.form.token ?? req.query.token);
            return known ? { status: 200, json: {} } : { status: 400, json: { error: 'invalid_token', error_description: 'Token expired or revoked' } };
          },
        },
        ready: { authority: base, clientId: '1234-desktop.apps.googleusercontent.com', clientSecret: GOOGLE_CLIENTS['1234-desktop.apps.googleusercontent.com'].secret },
      };
    },
  });
}
