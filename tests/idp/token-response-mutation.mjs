// Token responses that break RFC 6749 §5.1, for the client's negative tests. POST /__test/config
// {"tokenResponseMutation": MODE} arms one mutation: the NEXT successful token endpoint response (any
// grant) is rewritten, then the setting goes back to "none".
export const TOKEN_RESPONSE_MUTATIONS = [
  'none',
  'token-type-mac', // token_type "mac": neither Bearer nor DPoP (RFC 6749 §7.1)
  'no-token-type', // token_type removed (REQUIRED by RFC 6749 §5.1)
  'lowercase-bearer', // token_type "bearer" (case-insensitive, RFC 6749 §5.1)
  'no-expires-in', // expires_in removed
  'zero-expires-in', // expires_in 0
  'negative-expires-in', // expires_in -5
  'fractional-expires-in', // expires_in 59.5
  'numeric-access-token', // access_token 12345 (a number, not a string)
];

function mutate(body, mode) {
  switch (mode) {
    case 'token-type-mac': return { ...body, token_type: 'mac' };
    case 'lowercase-bearer': return { ...body, token_type: 'bearer' };
    case 'no-token-type': { const { token_type: _, ...rest } = body; return rest; }
    case 'no-expires-in': { const { expires_in: _, ...rest } = body; return rest; }
    case 'zero-expires-in': return { ...body, expires_in: 0 };
    case 'negative-expires-in': return { ...body, expires_in: -5 };
    case 'fractional-expires-in': return { ...body, expires_in: 59.5 };
    case 'numeric-access-token': return { ...body, access_token: 12345 };
    default: throw new Error(`unknown tokenResponseMutation "${mode}"`);
  }
}

/** Koa middleware (provider.use) rewriting the next successful token response. */
export function tokenResponseMutation(settings, routes) {
  return async function tokenResponseMutationMiddleware(ctx, next) {
    await next();
    if (ctx.method !== 'POST' || ctx.path !== routes.token || settings.tokenResponseMutation === 'none') return;
    const body = ctx.body;
    if (ctx.status !== 200 || !body || typeof body !== 'object' || typeof body.access_token !== 'string') return;
    const mode = settings.tokenResponseMutation;
    settings.tokenResponseMutation = 'none';
    ctx.body = mutate(body, mode);
  };
}
