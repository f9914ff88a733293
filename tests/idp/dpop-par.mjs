// DPoP (RFC 9449) and pushed authorization requests (RFC 9126) of the test provider, both opt-in so the
// default provider behaves as before:
//  - DPoP is oidc-provider's own `features.dPoP` (off unless asked for), with server nonces when asked;
//  - PAR is always served at /request (oidc-provider's default), but `pushed_authorization_request_endpoint`
//    is only advertised in the discovery metadata when asked for (a client that uses PAR whenever the
//    metadata names it would otherwise push every request of the existing tests);
//  - the lifetime of a request_uri (oidc-provider: 60 s) can be shortened, to test its expiry;
//  - with requireDpop, a token request without a DPoP header is refused as Okta refuses it for an app that
//    requires DPoP: HTTP 400 invalid_dpop_proof "The DPoP proof JWT header is missing."
//    (https://support.okta.com/help/s/article/the-dpop-proof-jwt-header-is-missing). oidc-provider itself would
//    answer its generic invalid_grant "grant request is invalid" (dpop_bound_access_tokens), which says nothing.
import { randomBytes } from 'node:crypto';

/** The DPoP proof algorithms the provider accepts when DPoP is on (oidc-provider's JWA names). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'RS256', 'EdDSA'];

/** Command-line / startProvider() values of `par`. */
export const PAR_MODES = ['hidden', 'advertised', 'required'];

/** Command-line / startProvider() values of `dpop`. */
export const DPOP_MODES = ['off', 'on', 'nonce'];

/**
 * The oidc-provider configuration pieces: `features.dPoP`, `features.pushedAuthorizationRequests`,
 * `enabledJWA.dPoPSigningAlgValues`, and the client metadata to add (dpop_bound_access_tokens).
 */
export function dpopParConfiguration({ dpop = 'off', requireDpop = false, par = 'hidden' }) {
  if (!DPOP_MODES.includes(dpop)) throw new TypeError(`dpop must be one of ${DPOP_MODES.join(', ')}`);
  if (!PAR_MODES.includes(par)) throw new TypeError(`par must be one of ${PAR_MODES.join(', ')}`);
  const dpopOn = dpop !== 'off' || requireDpop;
  return {
    features: {
      dPoP: {
        enabled: dpopOn,
        nonceSecret: dpopOn ? randomBytes(32) : undefined,
        requireNonce: () => dpop === 'nonce',
      },
      pushedAuthorizationRequests: {
        enabled: true,
        requirePushedAuthorizationRequests: par === 'required',
      },
    },
    enabledJWA: dpopOn ? { dPoPSigningAlgValues: DPOP_ALGORITHMS } : undefined,
    clientMetadata: requireDpop ? { dpop_bound_access_tokens: true } : {},
  };
}

/**
 * Koa middleware: hides the PAR endpoint from the discovery metadata unless `par` is 'advertised' or
 * 'required', and gives each new request_uri the lifetime `settings.parTtl` (seconds; 0 keeps the
 * provider's 60 s) by saving the pushed request again with that lifetime and answering it as expires_in.
 */
export function parRules({ par, settings, routes }) {
  return async function parRulesMiddleware(ctx, next) {
    await next();
    if (ctx.path === '/.well-known/openid-configuration' && par === 'hidden' && ctx.body && typeof ctx.body === 'object') {
      delete ctx.body.pushed_authorization_request_endpoint;
      delete ctx.body.require_pushed_authorization_requests;
    }
    if (ctx.path === routes.pushed_authorization_request && ctx.status === 201 && settings.parTtl > 0) {
      const pushed = ctx.oidc?.entities?.PushedAuthorizationRequest;
      if (pushed) {
        await pushed.save(settings.parTtl);
        ctx.body = { ...ctx.body, expires_in: settings.parTtl };
      }
    }
  };
}

/** Koa middleware (requireDpop only): a token request without a DPoP header gets Okta's answer (see above). */
export function requireDpopProof({ requireDpop, routes }) {
  return async function requireDpopProofMiddleware(ctx, next) {
    if (requireDpop && ctx.path === routes.token && ctx.method === 'POST' && !ctx.get('DPoP')) {
      ctx.status = 400;
      ctx.set('cache-control', 'no-store');
      ctx.body = { error: 'invalid_dpop_proof', error_description: 'The DPoP proof JWT header is missing.' };
      return;
    }
    await next();
  };
}
