import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** clients/node (this file runs from clients/node/dist/tests/support/). */
export const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The repository root. */
export const REPO = resolve(PACKAGE, '..', '..');

export const RELEASE_DLL = join(REPO, 'src', 'OAuthSidecar', 'bin', 'Release', 'net10.0', 'oauth-sidecar.dll');

/**
 * The sidecar the tests run: OAUTH_SIDECAR_PATH when set, else the Release build that
 * `npm test` at the root has just made (an artifacts/aot executable may be older than the
 * sources), else whatever spawnSidecar() finds.
 */
export function sidecarUnderTest(): string | undefined {
  if (process.env.OAUTH_SIDECAR_PATH) return undefined;
  return existsSync(RELEASE_DLL) ? RELEASE_DLL : undefined;
}
