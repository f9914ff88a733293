// Step-up (RFC 9470) in the test provider: the ID token's `acr` says how the user authenticated.
// A sign-in is "password" unless the authorization request's acr_values asks for "mfa", in which
// case the headless user completes the (imaginary) second factor too, and the sign-in is "mfa".
// max_age is oidc-provider's own: every headless sign-in is a fresh login, so auth_time is now.

/** The authentication context classes the provider knows (discovery: acr_values_supported). */
export const ACR = {
  password: 'urn:sidecar:acr:password',
  mfa: 'urn:sidecar:acr:mfa',
};

/** The acr of a login asked for with `acrValues` (the request's space-separated acr_values). */
export function loginAcr(acrValues) {
  const asked = typeof acrValues === 'string' ? acrValues.split(' ') : [];
  return asked.includes(ACR.mfa) ? ACR.mfa : ACR.password;
}

/**
 * Makes every login of devInteractions carry an acr (its login form knows none): wraps
 * provider.interactionFinished, which the login form's submit calls with { login: { accountId } }.
 */
export function recordLoginAcr(provider) {
  const finish = provider.interactionFinished.bind(provider);
  // eslint-disable-next-line no-param-reassign
  provider.interactionFinished = async (req, res, result, options) => {
    if (result?.login && result.login.acr === undefined) {
      const { params } = await provider.interactionDetails(req, res);
      Object.assign(result.login, { acr: loginAcr(params.acr_values) });
    }
    return finish(req, res, result, options);
  };
}
