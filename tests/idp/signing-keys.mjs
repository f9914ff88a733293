// The provider's own signing keys: made fresh on every start, rotated at run time by
// POST /__test/rotate-keys, and used by id-token-mutation.mjs to re-sign ID tokens.
//
// oidc-provider 8 reads `jwks` only when the Provider is constructed and has no public API to change
// keys later. It keeps them in a KeyStore in its private per-provider cache (lib/helpers/weak_cache.js)
// and serves /jwks from a `jwksResponse` object computed once, in the same place. Rotation therefore
// edits those two in place, which is what oidc-provider itself would have built from the new key
// list: its signing code (ID tokens, JWT access tokens) picks, for an alg, the FIRST matching key of
// that KeyStore on every call. This reaches into oidc-provider internals and is tied to the pinned
// 8.8.1; test/signing-keys.test.mjs fails loudly if an upgrade changes them.
import { generateKeyPair, generateKeyPairSync, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';

/** A new RS256 private JWK with a fresh kid. */
export function newRsaKey(kid = `rs256-${randomBytes(4).toString('hex')}`) {
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  return { ...jwk, kid, alg: 'RS256', use: 'sig' };
}

const generate = promisify(generateKeyPair);

/**
 * Fresh signing keys for one run: RSA-2048 for RS256 (the default) and P-256 for ES256. Generated off the event
 * loop: in pool.mjs one process serves many providers, and a provider starting must not hold up the others' answers.
 */
export async function initialKeys() {
  const id = randomBytes(4).toString('hex');
  const [rsa, ec] = await Promise.all([generate('rsa', { modulusLength: 2048 }), generate('ec', { namedCurve: 'P-256' })]);
  return [
    { ...rsa.privateKey.export({ format: 'jwk' }), kid: `rs256-${id}`, alg: 'RS256', use: 'sig' },
    { ...ec.privateKey.export({ format: 'jwk' }), kid: `es256-${id}`, alg: 'ES256', use: 'sig' },
  ];
}

/** The public members of a JWK, as oidc-provider's /jwks lists them (lib/helpers/initialize_keystore.js). */
function publicJwk(jwk) {
  return {
    kty: jwk.kty,
    use: jwk.use,
    key_ops: jwk.key_ops ? [...jwk.key_ops] : undefined,
    kid: jwk.kid,
    alg: jwk.alg,
    crv: jwk.crv,
    e: jwk.e,
    n: jwk.n,
    x: jwk.x,
    x5c: jwk.x5c ? [...jwk.x5c] : undefined,
    y: jwk.y,
  };
}

/** Access to a running provider's keys. */
export function signingKeys(provider) {
  const internals = () => {
    const { keystore, jwksResponse } = instance(provider);
    if (!keystore || typeof keystore.clear !== 'function' || typeof keystore.add !== 'function' || !jwksResponse) {
      throw new Error('oidc-provider internals changed: no keystore to rotate (this code is written for oidc-provider 8.8.1)');
    }
    return { keystore, jwksResponse };
  };

  return {
    /** The private JWKs, in the keystore's order (the first one of an alg signs new tokens). */
    all: () => [...internals().keystore],

    /** The private JWK with this kid, or undefined. */
    byKid: (kid) => [...internals().keystore].find((jwk) => jwk.kid === kid),

    /** The key that signs new tokens with `alg`. */
    current: (alg = 'RS256') => [...internals().keystore].find((jwk) => jwk.alg === alg),

    /**
     * Puts a new RS256 key first. The previous RS256 keys stay in /jwks (behind the new one) and can
     * still verify tokens issued before, unless keepOld is false: then they are dropped. The ES256
     * key is kept either way. Returns the new key's kid.
     */
    rotate({ keepOld = true } = {}) {
      const { keystore } = internals();
      const fresh = newRsaKey();
      const kept = [...keystore].filter((jwk) => keepOld || jwk.alg !== 'RS256');
      keystore.clear();
      for (const jwk of [fresh, ...kept]) keystore.add(jwk);
      // The /jwks route reads this on every request.
      instance(provider).jwksResponse = { keys: [...keystore].map(publicJwk) };
      return fresh.kid;
    },
  };
}
