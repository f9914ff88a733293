// oidc-provider's endpoint paths of the default flavor (flavors.mjs changes them per provider).
export const ROUTES = {
  authorization: '/auth',
  pushed_authorization_request: '/request',
  token: '/token',
  device_authorization: '/device/auth',
  code_verification: '/device',
  revocation: '/token/revocation',
  introspection: '/token/introspection',
  jwks: '/jwks',
  userinfo: '/me',
  end_session: '/session/end',
  registration: '/reg',
  backchannel_authentication: '/backchannel',
};

