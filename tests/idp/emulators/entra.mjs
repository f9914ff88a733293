// An emulator of the Microsoft identity platform (Entra ID) v2.0 endpoints for a public client, as documented in
//   "OpenID Connect on the Microsoft identity platform" https://learn.microsoft.com/en-us/entra/identity-platform/v2-protocols-oidc
//     (discovery per tenant; the issuer of common and organizations is https://login.microsoftonline.com/{tenantid}/v2.0,
//     that of consumers names the personal-accounts tenant 9188040d-6c67-4c5b-b112-36a304b66dad),
//   "OAuth 2.0 authorization code flow" https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
//     (PKCE; offline_access for a refresh token; a new refresh token with every refresh; scope on a refresh),
//   "OAuth 2.0 device authorization grant" https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-device-code
//     (/devicecode; scope required; polling errors authorization_pending, authorization_declined, bad_verification_code,
//     expired_token with HTTP 400),
//   "ID token claims reference" https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference
//     (iss with the tenant's id, tid, oid, preferred_username, ver 2.0),
//   "Redirect URI restrictions" https://learn.microsoft.com/en-us/entra/identity-platform/reply-url (http://localhost
//     matches on any port),
//   "Public client and confidential client applications" https://learn.microsoft.com/en-us/entra/identity-platform/msal-client-applications
//     (a public client presenting a secret: AADSTS700025),
// and, with the setting stringNumbers (on by default), expires_in, ext_expires_in and the device answer's numbers
// written as JSON strings, as the v1 endpoints do ("expires_in": "3599",
// https://learn.microsoft.com/en-us/previous-versions/azure/active-directory/azuread-dev/v1-protocols-oauth-code) and
// Azure AD B2C did.
import { createHash, randomUUID } from 'node:crypto';
import {
  DEVICE_CODE_GRANT, deviceCodes, errorPage, pkceMatches, redirectMatches, startEmulator, token,
} from './common.mjs';

/** The organization's tenant, and the tenant of personal Microsoft accounts (documented). */
export const TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';
export const CONSUMERS_TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad';
export const ENTRA_CLIENT_ID = '0cfd8e8c-6a8f-4b4b-8d3a-1b2c3d4e5f60';
const REDIRECT = 'http://localhost/callback';
const OIDC = new Set(['openid', 'profile', 'email', 'offline_access']);
const USERS = {
  [TENANT_ID]: { oid: '00000000-0000-0000-66f3-3332eca7ea81', name: 'Adele Vance', preferred_username: 'adele@contoso.example' },
  [CONSUMERS_TENANT_ID]: { oid: '00000000-0000-0000-40c0-3bac188d01d1', name: 'Alice Example', preferred_username: 'alice@outlook.example' },
};

export function startEntra({ deviceInterval = 5 } = {}) {
  return startEmulator({
    name: 'entra',
    settings: { deviceInterval, stringNumbers: true },
    setup: ({ base, settings, jwks, signIdToken }) => {
      const tenants = {
        common: '{tenantid}', organizations: '{tenantid}', consumers: CONSUMERS_TENANT_ID, [TENANT_ID]: TENANT_ID, 'contoso.onmicrosoft.com': TENANT_ID,
      };
      const issuerOf = (tenant) => `${base}/${tenants[tenant]}/v2.0`;
      // The account's tenant: personal accounts for consumers, the organization otherwise.
      const homeOf = (tenant) => (tenant === 'consumers' ? CONSUMERS_TENANT_ID : TENANT_ID);
      const codes = new Map();
      const refreshTokens = new Map();
      const devices = deviceCodes(settings, 900);
      const number = (n) => (settings.stringNumbers ? String(n) : n);

      function aadError(status, error, code, description) {
        return {
          status,
          json: {
            error,
            error_description: `AADSTS${code}: ${description}\r\nTrace ID: ${randomUUID()}\r\nCorrelation ID: ${randomUUID()}\r\nTimestamp: ${new Date().toISOString()}`,
            error_codes: [code],
            timestamp: new Date().toISOString().replace('T', ' ').slice(0, 19) + 'Z',
            trace_id: randomUUID(),
            correlation_id: randomUUID(),
            error_uri: `https://login.microsoftonline.com/error?code=${code}`,
          },
        };
      }

      // A public client: no secret, ever.
      function clientError(req) {
        if (req.form.client_id !== ENTRA_CLIENT_ID) return aadError(400, 'unauthorized_client', 700016, `Application with identifier '${req.form.client_id}' was not found in the directory.`);
        if (req.form.client_secret || req.form.client_assertion || req.basic) return aadError(401, 'invalid_client', 700025, 'Client is public so neither \'client_assertion\' nor \'client_secret\' should be presented.');
        return undefined;
      }

      // The granted scope: the resource scopes asked for (User.Read for Microsoft Graph when none) and openid,
      // profile, email; never offline_access.
      const grantedScope = (scopes) => {
        const resource = scopes.filter((s) => !OIDC.has(s));
        return [...(resource.length > 0 ? resource : ['User.Read']), ...scopes.filter((s) => OIDC.has(s) && s !== 'offline_access')].join(' ');
      };

      async function tokens(grant, { nonce, scopes = grant.scopes, rotate = true } = {}) {
        const now = Math.floor(Date.now() / 1000);
        const accessToken = token('eyJ0eXAiOiJKV1Qi.', 60);
        const body = {
          token_type: 'Bearer', scope: grantedScope(scopes), expires_in: number(3599), ext_expires_in: number(3599), access_token: accessToken,
        };
        if (rotate && grant.scopes.includes('offline_access')) {
          const refreshToken = token('0.AXoA', 80);
          refreshTokens.set(refreshToken, grant);
          body.refresh_token = refreshToken;
        }
        if (scopes.includes('openid')) {
          const user = USERS[grant.tid];
          body.id_token = await signIdToken({
            aud: ENTRA_CLIENT_ID,
            iss: `${base}/${grant.tid}/v2.0`,
            iat: now,
            nbf: now,
            exp: now + 3600,
            ...(scopes.includes('profile') ? { name: user.name, preferred_username: user.preferred_username } : {}),
            ...(nonce ? { nonce } : {}),
            oid: user.oid,
            sub: createHash('sha256').update(`${user.oid}|${ENTRA_CLIENT_ID}`).digest('base64url').slice(0, 43),
            tid: grant.tid,
            uti: token('', 16),
            ver: '2.0',
          });
        }
        return { status: 200, json: body };
      }

      const routes = {};
      for (const tenant of Object.keys(tenants)) {
        const prefix = `${base}/${tenant}`;
        routes[`GET /${tenant}/v2.0/.well-known/openid-configuration`] = () => ({
          status: 200,
          json: {
            token_endpoint: `${prefix}/oauth2/v2.0/token`,
            token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
            jwks_uri: `${prefix}/discovery/v2.0/keys`,
            response_modes_supported: ['query', 'fragment', 'form_post'],
            subject_types_supported: ['pairwise'],
            id_token_signing_alg_values_supported: ['RS256'],
            response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
            scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
            issuer: issuerOf(tenant),
            request_uri_parameter_supported: false,
            userinfo_endpoint: `${base}/oidc/userinfo`,
            authorization_endpoint: `${prefix}/oauth2/v2.0/authorize`,
            device_authorization_endpoint: `${prefix}/oauth2/v2.0/devicecode`,
            http_logout_supported: true,
            frontchannel_logout_supported: true,
            end_session_endpoint: `${prefix}/oauth2/v2.0/logout`,
            claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
            tenant_region_scope: null,
            cloud_instance_name: 'microsoftonline.com',
          },
        });
        routes[`GET /${tenant}/discovery/v2.0/keys`] = () => ({ status: 200, json: jwks });

        routes[`GET /${tenant}/oauth2/v2.0/authorize`] = (req) => {
          const q = req.query;
          if (q.client_id !== ENTRA_CLIENT_ID) return errorPage(400, 'Sign in', `AADSTS700016: Application with identifier '${q.client_id}' was not found in the directory.`);
          // http://localhost matches on any port; nothing else is registered.
          if (!URL.canParse(q.redirect_uri ?? '') || new URL(q.redirect_uri).hostname !== 'localhost' || !redirectMatches(REDIRECT, q.redirect_uri)) {
            return errorPage(400, 'Sign in', `AADSTS50011: The redirect URI '${q.redirect_uri}' specified in the request does not match the redirect URIs configured for the application '${ENTRA_CLIENT_ID}'.`);
          }
          const to = new URL(q.redirect_uri);
          if (req.deny) {
            to.searchParams.set('error', 'access_denied');
            to.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
          } else {
            const code = token('0.AXoA', 60);
            codes.set(code, {
              scopes: (q.scope ?? '').split(' ').filter(Boolean), redirectUri: q.redirect_uri, challenge: q.code_challenge, nonce: q.nonce, tid: homeOf(tenant),
            });
            to.searchParams.set('code', code);
          }
          if (q.state) to.searchParams.set('state', q.state);
          return { status: 302, redirect: to.href };
        };

        routes[`POST /${tenant}/oauth2/v2.0/devicecode`] = (req) => {
          const bad = clientError(req);
          if (bad) return bad;
          if (!req.form.scope) return aadError(400, 'invalid_request', 900144, 'The request body must contain the following parameter: \'scope\'.');
          const entry = devices.issue({ scopes: req.form.scope.split(' '), tid: homeOf(tenant) });
          return {
            status: 200,
            json: {
              user_code: entry.userCode,
              device_code: entry.deviceCode,
              verification_uri: `${base}/devicelogin`,
              expires_in: number(900),
              interval: number(entry.interval),
              message: `To sign in, use a web browser to open the page ${base}/devicelogin and enter the code ${entry.userCode} to authenticate.`,
            },
          };
        };

        routes[`POST /${tenant}/oauth2/v2.0/token`] = async (req) => {
          const bad = clientError(req);
          if (bad) return bad;
          const f = req.form;
          if (f.grant_type === 'authorization_code') {
            const code = codes.get(f.code);
            codes.delete(f.code);
            if (!code || code.redirectUri !== f.redirect_uri || !(await pkceMatches(code.challenge, f.code_verifier))) {
              return aadError(400, 'invalid_grant', 70008, 'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.');
            }
            return tokens({ scopes: code.scopes, tid: code.tid }, { nonce: code.nonce });
          }
          if (f.grant_type === 'refresh_token') {
            const grant = refreshTokens.get(f.refresh_token);
            if (!grant) return aadError(400, 'invalid_grant', 9002313, 'Invalid request. Request is malformed or invalid.');
            const asked = (f.scope ?? '').split(' ').filter(Boolean);
            const missing = asked.filter((s) => !OIDC.has(s) && !grant.scopes.includes(s));
            if (missing.length > 0) return aadError(400, 'invalid_grant', 65001, `The user or administrator has not consented to use the application with ID '${ENTRA_CLIENT_ID}'. Send an interactive authorization request for this user and resource.`);
            return tokens(grant, { scopes: asked.length > 0 ? [...asked, 'offline_access'] : grant.scopes });
          }
          if (f.grant_type === DEVICE_CODE_GRANT) {
            const { outcome, entry } = devices.poll(f.device_code);
            if (outcome === 'approved') return tokens({ scopes: entry.scopes, tid: entry.tid });
            if (outcome === 'pending' || outcome === 'slow_down') return aadError(400, 'authorization_pending', 70016, 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.');
            if (outcome === 'denied') return aadError(400, 'authorization_declined', 70000, 'The end user denied the authorization request.');
            if (outcome === 'expired') return aadError(400, 'expired_token', 70020, 'The provided value for the input parameter \'device_code\' is not valid. This device code has expired.');
            return aadError(400, 'bad_verification_code', 70019, 'The device_code provided is not valid.');
          }
          return aadError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${f.grant_type}'.`);
        };
      }

      return {
        approveDevice: (code, deny) => devices.approve(code, deny),
        routes,
        ready: { authority: `${base}/organizations`, clientId: ENTRA_CLIENT_ID, tenantId: TENANT_ID },
      };
    },
  });
}
