// A port nobody listens on right now, for a redirect URI that a provider must know before the client binds it
// (providers that match redirect ports exactly: Okta, Auth0, Keycloak).
import { createServer } from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}
