// Request counters for the token, device authorization, revocation and introspection endpoints.
// Requests that the control API itself makes (header `x-test-control`) are not counted.

export function createStats() {
  let counts;
  const stats = {
    reset() {
      counts = {
        token: { total: 0, byGrantType: {}, byClient: {} },
        deviceAuthorization: 0,
        revocation: 0,
        introspection: 0,
      };
      return stats.snapshot();
    },
    snapshot: () => structuredClone(counts),
    countToken(grantType, clientId) {
      counts.token.total += 1;
      counts.token.byGrantType[grantType] = (counts.token.byGrantType[grantType] ?? 0) + 1;
      counts.token.byClient[clientId] = (counts.token.byClient[clientId] ?? 0) + 1;
    },
    count(endpoint) {
      counts[endpoint] += 1;
    },
  };
  stats.reset();
  return stats;
}

/** The client a token request came from: authenticated, or named in the body or Basic header. */
function requestClientId(ctx) {
  if (ctx.oidc?.client) return ctx.oidc.client.clientId;
  if (typeof ctx.oidc?.body?.client_id === 'string') return ctx.oidc.body.client_id;
  const [scheme, credentials] = ctx.get('authorization').split(' ');
  if (scheme?.toLowerCase() === 'basic' && credentials) {
    const user = Buffer.from(credentials, 'base64').toString().split(':')[0];
    try {
      return decodeURIComponent(user.replace(/\+/g, ' '));
    } catch {
      return user;
    }
  }
  return 'unknown';
}

/** Koa middleware counting requests; it reads what oidc-provider parsed, after the fact. */
export function countRequests(stats, routes) {
  return async function countRequestsMiddleware(ctx, next) {
    try {
      await next();
    } finally {
      if (ctx.method === 'POST' && !ctx.get('x-test-control')) {
        switch (ctx.path) {
          case routes.token: {
            const grantType = ctx.oidc?.body?.grant_type;
            stats.countToken(typeof grantType === 'string' ? grantType : 'unknown', requestClientId(ctx));
            break;
          }
          case routes.device_authorization: stats.count('deviceAuthorization'); break;
          case routes.revocation: stats.count('revocation'); break;
          case routes.introspection: stats.count('introspection'); break;
          default: break;
        }
      }
    }
  };
}
