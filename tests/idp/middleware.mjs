// Small rules that run in front of oidc-provider's own routes.
import { checkPassword } from './accounts.mjs';

/**
 * Reads an application/x-www-form-urlencoded request body, lets `edit` inspect or change it,
 * and hands the result on to oidc-provider, which takes an already-read body from `req.body`
 * (it prints a one-time "already parsed request body detected" warning on stderr; harmless).
 */
async function withForm(ctx, edit) {
  if (!ctx.is('application/x-www-form-urlencoded')) return undefined;
  let text = ctx.req.body; // already read by another rule
  if (typeof text !== 'string') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    text = Buffer.concat(chunks).toString('utf8');
  }
  const form = new URLSearchParams(text);
  const result = edit(form);
  ctx.req.body = form.toString();
  return result;
}

/**
 * devInteractions' login form accepts any user name and ignores the password: check both
 * against accounts.mjs. A wrong login gets HTTP 401 and a short page instead of a session.
 */
export function checkLogin() {
  return async function checkLoginMiddleware(ctx, next) {
    if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path)) {
      const ok = await withForm(ctx, (form) => form.get('prompt') !== 'login'
        || checkPassword(form.get('login'), form.get('password')));
      if (ok === false) {
        ctx.status = 401;
        ctx.type = 'html';
        ctx.body = '<!DOCTYPE html><title>Sign-in failed</title><p class="error">Invalid user name or password</p>';
        return;
      }
    }
    await next();
  };
}

/**
 * oidc-provider drops `offline_access` from an authorization request unless it also carries
 * prompt=consent (OIDC Core §11), so no refresh token would be issued. Real providers don't
 * insist; neither does this one: such requests get `consent` added to their `prompt` (our
 * headless user always shows consent anyway). prompt=none is left alone.
 */
export function keepOfflineAccess(routes) {
  // Adds prompt=consent where needed; answers whether it did.
  const addConsent = (params) => {
    const scopes = (params.get('scope') ?? '').split(' ');
    const prompts = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
    if (!scopes.includes('offline_access') || prompts.has('consent') || prompts.has('none')) return false;
    params.set('prompt', [...prompts, 'consent'].join(' '));
    return true;
  };

  return async function keepOfflineAccessMiddleware(ctx, next) {
    if (ctx.path === routes.authorization && ctx.method === 'GET') {
      const params = new URLSearchParams(ctx.querystring);
      if (addConsent(params)) ctx.querystring = params.toString();
    } else if ([routes.authorization, routes.pushed_authorization_request].includes(ctx.path)
      && ctx.method === 'POST') {
      await withForm(ctx, addConsent);
    }
    await next();
  };
}

/**
 * Auth0 names the API an access token is for with `audience` (https://auth0.com/docs/secure/tokens/access-tokens/get-access-tokens);
 * oidc-provider with RFC 8707 `resource`. The Auth0 flavor reads one as the other, at the authorization and token
 * endpoints, unless a `resource` is given too.
 */
export function audienceAsResource(routes) {
  const rename = (params) => {
    const audience = params.get('audience');
    if (audience && !params.has('resource')) params.set('resource', audience);
    params.delete('audience');
  };
  return async function audienceAsResourceMiddleware(ctx, next) {
    if (ctx.path === routes.authorization && ctx.method === 'GET') {
      const params = new URLSearchParams(ctx.querystring);
      rename(params);
      ctx.querystring = params.toString();
    } else if ([routes.authorization, routes.token].includes(ctx.path) && ctx.method === 'POST') {
      await withForm(ctx, rename);
    }
    await next();
  };
}
