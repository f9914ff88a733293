// An emulator of GitHub's OAuth endpoints for user sign-in, as documented in
//   "Authorizing OAuth apps" https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
//     (web application flow, device flow and its error codes, redirect URLs, loopback redirect URLs),
//   "Refreshing user access tokens" https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens
//     (GitHub Apps with expiring user tokens: expires_in 28800, refresh_token, refresh_token_expires_in 15897600),
//   "Get the authenticated user" https://docs.github.com/en/rest/users/users#get-the-authenticated-user (GET /user).
// What a generic OAuth client trips on, reproduced: no discovery document; token and device answers are
// form-encoded (application/x-www-form-urlencoded) unless the request says Accept: application/json; errors of the
// token endpoint, device polling included (authorization_pending, slow_down, …), come with HTTP 200; the client
// secret is read from the form or the query only (an Authorization: Basic header is ignored, so a secret sent that way
// is incorrect_client_credentials); granted scopes are a comma-separated list; there is no id_token.
// The REST API is served as on GitHub Enterprise Server (https://HOST/api/v3/user), which is how the preset reaches a
// host other than github.com.
import {
  DEVICE_CODE_GRANT, deviceCodes, errorPage, pkceMatches, redirectMatches, startEmulator, token, wantsJson,
} from './common.mjs';

const DOCS = 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors';

/** The registered apps: an OAuth app (tokens do not expire) and a GitHub App with expiring user tokens. */
export const GITHUB_APPS = {
  'gh-oauth-app': { secret: 'gh-oauth-secret', callback: 'http://127.0.0.1/callback', expiring: false },
  'Iv23-gh-app': { secret: 'gh-app-secret', callback: 'http://127.0.0.1/callback', expiring: true },
};

const USER = {
  login: 'octocat', id: 583231, node_id: 'MDQ6VXNlcjU4MzIzMQ==', type: 'User', name: 'The Octocat', site_admin: false,
};

const ERRORS = {
  incorrect_client_credentials: 'The client_id and/or client_secret passed are incorrect.',
  redirect_uri_mismatch: 'The redirect_uri MUST match the registered callback URL for this application.',
  bad_verification_code: 'The code passed is incorrect or expired.',
  unverified_user_email: 'The user must have a verified primary email.',
  authorization_pending: 'The authorization request is still pending.',
  slow_down: 'Too many requests have been made in the same timeframe.',
  expired_token: 'The device_code has expired.',
  unsupported_grant_type: 'The grant type is not supported.',
  incorrect_device_code: 'The device_code provided is not valid.',
  access_denied: 'The authorization request was denied.',
  bad_refresh_token: 'The refresh token passed is incorrect or expired.',
};

export function startGitHub({ deviceInterval = 5 } = {}) {
  return startEmulator({
    name: 'github',
    settings: { deviceInterval, formAlways: false },
    setup: ({ base, settings }) => {
      const codes = new Map(); // code -> { clientId, redirectUri, scope, challenge }
      const accessTokens = new Map(); // token -> login
      const refreshTokens = new Map(); // refresh token -> { clientId, scope }
      const devices = deviceCodes(settings, 900);

      // Token endpoint answers: form-encoded unless JSON was asked for; errors with HTTP 200, as GitHub does. The test
      // setting formAlways answers form-encoded whatever Accept says, to prove a client reads such answers.
      const answer = (req, body) => (wantsJson(req) && !settings.formAlways ? { status: 200, json: body } : { status: 200, form: body });
      const error = (req, code, extra = {}) => answer(req, { error: code, error_description: ERRORS[code], error_uri: `${DOCS}#${code.replaceAll('_', '-')}`, ...extra });

      function issue(req, clientId, scope) {
        const app = GITHUB_APPS[clientId];
        const accessToken = token(app.expiring ? 'ghu_' : 'gho_', 27);
        accessTokens.set(accessToken, USER.login);
        if (!app.expiring) return answer(req, { access_token: accessToken, scope, token_type: 'bearer' });
        const refreshToken = token('ghr_', 60);
        refreshTokens.set(refreshToken, { clientId, scope });
        return answer(req, {
          access_token: accessToken, expires_in: 28800, refresh_token: refreshToken, refresh_token_expires_in: 15897600, scope: '', token_type: 'bearer',
        });
      }

      // Parameters may come in the form or the query; a Basic header is not read.
      const param = (req, name) => req.form[name] ?? req.query[name];

      function userApi(req) {
        const presented = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
        if (!presented || !accessTokens.has(presented)) {
          return { status: 401, json: { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest/users/users#get-the-authenticated-user', status: '401' } };
        }
        return { status: 200, json: USER };
      }

      return {
        approveDevice: (code, deny) => devices.approve(code, deny),
        routes: {
          'GET /login/oauth/authorize': async (req) => {
            const { client_id: clientId, redirect_uri: redirectUri, state } = req.query;
            const app = GITHUB_APPS[clientId];
            if (!app) return errorPage(404, 'Not Found', `no OAuth app with client_id ${clientId}`);
            const target = redirectUri ?? app.callback;
            if (!redirectMatches(app.callback, target)) {
              const to = new URL(app.callback);
              for (const [k, v] of Object.entries({ error: 'redirect_uri_mismatch', error_description: ERRORS.redirect_uri_mismatch, state })) if (v) to.searchParams.set(k, v);
              return { status: 302, redirect: to.href };
            }
            if (req.query.code_challenge && req.query.code_challenge_method !== 'S256') return errorPage(400, 'Bad Request', 'code_challenge_method must be S256');
            const to = new URL(target);
            if (req.deny) {
              for (const [k, v] of Object.entries({ error: 'access_denied', error_description: 'The user has denied your application access.', error_uri: `${DOCS}#access-denied`, state })) if (v) to.searchParams.set(k, v);
              return { status: 302, redirect: to.href };
            }
            const code = token('', 15);
            const scope = (req.query.scope ?? '').split(/[ ,]+/).filter(Boolean).join(',');
            codes.set(code, { clientId, redirectUri, scope, challenge: req.query.code_challenge });
            to.searchParams.set('code', code);
            if (state) to.searchParams.set('state', state);
            return { status: 302, redirect: to.href };
          },

          'POST /login/device/code': (req) => {
            const clientId = param(req, 'client_id');
            if (!GITHUB_APPS[clientId]) return error(req, 'incorrect_client_credentials');
            const scope = (param(req, 'scope') ?? '').split(/[ ,]+/).filter(Boolean).join(',');
            const entry = devices.issue({ clientId, scope });
            return answer(req, {
              device_code: entry.deviceCode, user_code: entry.userCode, verification_uri: `${base}/login/device`, expires_in: 900, interval: entry.interval,
            });
          },

          'POST /login/oauth/access_token': async (req) => {
            const clientId = param(req, 'client_id');
            const app = GITHUB_APPS[clientId];
            const grantType = param(req, 'grant_type');
            if (grantType === DEVICE_CODE_GRANT) {
              if (!app) return error(req, 'incorrect_client_credentials');
              const { outcome, entry } = devices.poll(param(req, 'device_code'));
              if (outcome === 'unknown' || entry.clientId !== clientId) return error(req, 'incorrect_device_code');
              if (outcome === 'approved') return issue(req, clientId, entry.scope);
              if (outcome === 'slow_down') return error(req, 'slow_down', { interval: entry.interval });
              return error(req, { pending: 'authorization_pending', denied: 'access_denied', expired: 'expired_token' }[outcome]);
            }
            if (!app || param(req, 'client_secret') !== app.secret) return error(req, 'incorrect_client_credentials');
            if (grantType === 'refresh_token') {
              const grant = refreshTokens.get(param(req, 'refresh_token'));
              if (!app.expiring || !grant || grant.clientId !== clientId) return error(req, 'bad_refresh_token');
              refreshTokens.delete(param(req, 'refresh_token')); // a refresh token is good once
              return issue(req, clientId, grant.scope);
            }
            if (grantType !== undefined && grantType !== 'authorization_code') return error(req, 'unsupported_grant_type');
            const code = codes.get(param(req, 'code'));
            codes.delete(param(req, 'code'));
            if (!code || code.clientId !== clientId || !(await pkceMatches(code.challenge, param(req, 'code_verifier')))) return error(req, 'bad_verification_code');
            // redirect_uri is optional here; when given it must be the one the code was issued for.
            if (code.redirectUri && param(req, 'redirect_uri') !== undefined && param(req, 'redirect_uri') !== code.redirectUri) return error(req, 'redirect_uri_mismatch');
            return issue(req, clientId, code.scope);
          },

          'GET /user': userApi, // api.github.com
          'GET /api/v3/user': userApi, // GitHub Enterprise Server
        },
        ready: { authority: base, clientId: 'gh-oauth-app', clientSecret: GITHUB_APPS['gh-oauth-app'].secret },
      };
    },
  });
}
