// The committed test-only keys and certificates in fixtures/ (see fixtures/README.md).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file in fixtures/. */
export const fixturePath = (name) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** The text of a file in fixtures/ (read once, then cached). */
const cache = new Map();
export function fixture(name) {
  if (!cache.has(name)) cache.set(name, readFileSync(fixturePath(name), 'utf8'));
  return cache.get(name);
}

/** Who signs JWT bearer assertions (RFC 7523) and SAML assertions (RFC 7522), and their keys. */
export const ASSERTION_ISSUER = 'urn:sidecar:test-assertion-issuer';
export const ASSERTION_KID = 'assertion-rsa';
export const SAML_ISSUER = 'urn:sidecar:test-saml-issuer';
