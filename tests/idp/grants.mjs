// Token endpoint grant types that oidc-provider 8 does not have, added with
// provider.registerGrantType(): the resource owner password grant (RFC 6749 §4.3) and JWT / SAML 2.0
// bearer assertions as authorization grants (RFC 7523 §2.1, RFC 7522 §2.1).
//
// Each checks what it receives, then issues tokens for the account as oidc-provider's own grants do:
// a Grant holding the granted scopes, an AccessToken (opaque, for userinfo; or a JWT for
// urn:sidecar:api when `resource` names it), an IdToken when `openid` was asked for, and (password
// only) a RefreshToken when `offline_access` was asked for. Refreshing then goes through
// oidc-provider's own refresh_token grant.
import { errors } from 'oidc-provider';

import { checkPassword } from './accounts.mjs';
import { verifyJwtAssertion } from './assertions.mjs';
import { decodeSamlParameter, verifySamlAssertion } from './saml.mjs';
import { JWT_BEARER, SAML2_BEARER } from './clients.mjs';

export const PASSWORD = 'password';
const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email']);
const now = () => Math.floor(Date.now() / 1000);

/** invalid_grant whose error_description says why (oidc-provider's own only says "grant request is invalid"). */
const invalidGrant = (description) => Object.assign(new errors.InvalidGrant(description), { error_description: description });

function requireParam(ctx, name) {
  const value = ctx.oidc.params[name];
  if (typeof value !== 'string' || value === '') throw new errors.InvalidRequest(`missing required parameter '${name}'`);
  return value;
}

/**
 * Issues the token response for `accountId` and the requested scope (and resource).
 * api: { resource, scopes: Set, info: () => resource server info } for urn:sidecar:api.
 * authTime (seconds), when the user has just authenticated, becomes the ID token's auth_time.
 */
async function issueTokens(ctx, { accountId, gty, refresh, authTime, api }) {
  const { provider, client, params } = ctx.oidc;
  const account = await provider.Account.findAccount(ctx, accountId);
  if (!account) throw invalidGrant(`unknown account "${accountId}"`);
  ctx.oidc.entity('Account', account);

  const requested = [...new Set((params.scope ?? '').split(' ').filter(Boolean))];
  const unknown = requested.filter((scope) => !OIDC_SCOPES.has(scope) && !api.scopes.has(scope));
  if (unknown.length) throw new errors.InvalidScope('requested scope is not allowed', unknown.join(' '));
  const oidcScopes = requested.filter((scope) => OIDC_SCOPES.has(scope));

  let resource;
  if (params.resource !== undefined) {
    if (params.resource !== api.resource) throw new errors.InvalidTarget(`unknown resource ${params.resource}`);
    resource = params.resource;
  }
  const apiScopes = resource ? requested.filter((scope) => api.scopes.has(scope)) : [];

  const grant = new provider.Grant({ accountId, clientId: client.clientId });
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
  if (resource) grant.addResourceScope(resource, apiScopes.join(' '));
  const grantId = await grant.save();
  ctx.oidc.entity('Grant', grant);

  const at = new provider.AccessToken({ accountId, client, grantId, gty });
  if (resource) {
    at.resourceServer = new provider.ResourceServer(resource, await api.info());
    at.scope = apiScopes.join(' ');
  } else {
    at.scope = oidcScopes.join(' ');
  }
  ctx.oidc.entity('AccessToken', at);
  const accessToken = await at.save();

  let refreshToken;
  if (refresh && oidcScopes.includes('offline_access') && client.grantTypeAllowed('refresh_token')) {
    const rt = new provider.RefreshToken({
      accountId, client, grantId, gty, authTime, resource, rotations: 0, scope: [...oidcScopes, ...apiScopes].join(' '),
    });
    ctx.oidc.entity('RefreshToken', rt);
    refreshToken = await rt.save();
  }

  let idToken;
  if (oidcScopes.includes('openid')) {
    const scope = oidcScopes.join(' ');
    const token = new provider.IdToken(await account.claims('id_token', scope, {}, []), { ctx });
    token.scope = scope;
    token.set('at_hash', accessToken);
    if (authTime !== undefined) token.set('auth_time', authTime);
    idToken = await token.issue({ use: 'idtoken' });
  }

  ctx.body = {
    access_token: accessToken,
    expires_in: at.expiration,
    id_token: idToken,
    refresh_token: refreshToken,
    scope: at.scope || undefined,
    token_type: at.tokenType,
  };
}

/**
 * Registers the three grants. A JWT assertion's aud must include the issuer or the token endpoint;
 * a SAML assertion's Audience must be the issuer.
 */
export function registerGrants(provider, { api, issuer, tokenEndpoint }) {
  const withResource = (...names) => [...names, 'scope', 'resource'];

  provider.registerGrantType(PASSWORD, async (ctx, next) => {
    const username = requireParam(ctx, 'username');
    const password = requireParam(ctx, 'password');
    if (!checkPassword(username, password)) throw invalidGrant('invalid resource owner credentials');
    await issueTokens(ctx, {
      accountId: username, gty: PASSWORD, refresh: true, authTime: now(), api,
    });
    await next();
  }, withResource('username', 'password'));

  provider.registerGrantType(JWT_BEARER, async (ctx, next) => {
    const assertion = requireParam(ctx, 'assertion');
    let payload;
    try {
      payload = await verifyJwtAssertion(assertion, { audiences: [issuer, tokenEndpoint] });
    } catch (err) {
      throw invalidGrant(err.message);
    }
    if (!await provider.Account.findAccount(ctx, payload.sub)) throw invalidGrant(`the assertion subject "${payload.sub}" is not a known account`);
    await issueTokens(ctx, {
      accountId: payload.sub, gty: 'jwt-bearer', refresh: false, api,
    });
    await next();
  }, withResource('assertion'));

  provider.registerGrantType(SAML2_BEARER, async (ctx, next) => {
    const parameter = requireParam(ctx, 'assertion');
    let nameId;
    try {
      ({ nameId } = verifySamlAssertion(decodeSamlParameter(parameter), { audience: issuer }));
    } catch (err) {
      throw invalidGrant(err.message);
    }
    if (!await provider.Account.findAccount(ctx, nameId)) throw invalidGrant(`the assertion NameID "${nameId}" is not a known account`);
    await issueTokens(ctx, {
      accountId: nameId, gty: 'saml2-bearer', refresh: false, api,
    });
    await next();
  }, withResource('assertion'));
}
