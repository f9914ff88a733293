// Redirect URI matching for the sidecar's loopback servers, which listen on a random port.
//
// oidc-provider 8 ignores the port of a loopback redirect URI only for native clients over http
// (RFC 8252 §7.3), and it rejects https loopback URIs on native clients outright. Here a
// requested URI on a loopback host matches a registered one on ANY port, for every client and
// both schemes; any other URI must match a registered one exactly.

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

function parse(uri) {
  try {
    return new URL(uri);
  } catch {
    return null;
  }
}

/** Whether `requested` is one of the `registered` URIs (ignoring the port on loopback hosts). */
export function uriAllowed(registered, requested) {
  const wanted = parse(requested);
  if (!wanted) return false;
  const anyPort = LOOPBACK_HOSTS.has(wanted.hostname);
  if (anyPort) wanted.port = '';
  return registered.some((uri) => {
    const allowed = parse(uri);
    if (!allowed) return false;
    if (anyPort) allowed.port = '';
    return allowed.href === wanted.href;
  });
}

const isHttpsLoopback = (uri) => parse(uri)?.protocol === 'https:' && LOOPBACK_HOSTS.has(parse(uri).hostname);

/** Client metadata that oidc-provider accepts: native clients lose their https loopback URIs... */
export function acceptableMetadata(client) {
  if (client.application_type !== 'native') return client;
  return {
    ...client,
    redirect_uris: client.redirect_uris?.filter((uri) => !isHttpsLoopback(uri)),
    post_logout_redirect_uris: client.post_logout_redirect_uris?.filter((uri) => !isHttpsLoopback(uri)),
  };
}

/**
 * ...which this puts back, once oidc-provider has built (and cached) its static clients. With `exact: true` (the
 * flavors of providers that pin redirect ports: Okta, Auth0, Keycloak) a redirect URI must equal a registered one,
 * port included.
 */
export async function installLoopbackRule(provider, clients, { exact = false } = {}) {
  provider.Client.prototype.redirectUriAllowed = function redirectUriAllowed(uri) {
    return exact ? (this.redirectUris ?? []).includes(uri) : uriAllowed(this.redirectUris ?? [], uri);
  };
  provider.Client.prototype.postLogoutRedirectUriAllowed = function postLogoutRedirectUriAllowed(uri) {
    return uriAllowed(this.postLogoutRedirectUris ?? [], uri);
  };
  for (const metadata of clients) {
    const client = await provider.Client.find(metadata.client_id); // static clients are cached
    if (metadata.redirect_uris) client.redirectUris = [...metadata.redirect_uris];
    if (metadata.post_logout_redirect_uris) client.postLogoutRedirectUris = [...metadata.post_logout_redirect_uris];
  }
}
