// The test IdP's user store: two fixed users with passwords and OIDC claims.

const USERS = {
  alice: {
    password: 'alice-password',
    claims: {
      preferred_username: 'alice',
      name: 'Alice Example',
      email: 'alice@example.test',
      email_verified: true,
    },
  },
  bob: {
    password: 'bob-password',
    claims: {
      preferred_username: 'bob',
      name: 'Bob Example',
      email: 'bob@example.test',
      email_verified: true,
    },
  },
};

/** Which claims each scope releases (oidc-provider's `claims` configuration). */
export const scopeClaims = {
  // acr and auth_time with every openid sign-in, as Entra and Okta send them (step-up.mjs).
  openid: ['sub', 'acr', 'auth_time'],
  profile: ['name', 'preferred_username'],
  email: ['email', 'email_verified'],
};

/** True when `login` names a known user whose password is `password`. */
export function checkPassword(login, password) {
  return Object.hasOwn(USERS, login) && USERS[login].password === password;
}

/** oidc-provider's `findAccount`: the account id is the user name, and also the `sub`. */
export async function findAccount(ctx, sub) {
  if (!Object.hasOwn(USERS, sub)) return undefined;
  return {
    accountId: sub,
    async claims() {
      return { sub, ...USERS[sub].claims };
    },
  };
}
