// The test-only control API, served under /__test/ on the provider's own port. JSON in, JSON out;
// mistakes in a request get HTTP 400, failures of the headless user HTTP 500: { "error": "..." }.
import { authorize, approveDevice } from './headless-user.mjs';
import { httpRequest } from './http-client.mjs';
import { ID_TOKEN_MUTATIONS } from './id-token-mutation.mjs';
import { TOKEN_RESPONSE_MUTATIONS } from './token-response-mutation.mjs';
import { signJwtAssertion } from './assertions.mjs';
import { signSamlAssertion } from './saml.mjs';

const SETTINGS = {
  slowDown: { min: 0 }, // force slow_down on the next N pending device code polls
  deviceInterval: { min: 0 }, // `interval` of new device authorizations, in seconds
  accessTokenTtl: { min: 1 }, // lifetime of new access tokens, in seconds
  idTokenMutation: { values: ID_TOKEN_MUTATIONS }, // break the next id_token (id-token-mutation.mjs)
  tokenResponseMutation: { values: TOKEN_RESPONSE_MUTATIONS }, // break the next token response (token-response-mutation.mjs)
  parTtl: { min: 0 }, // lifetime of new request_uris, in seconds (0: the provider's 60 s)
  resourceNonce: { values: [true, false] }, // the /rs/ resource server requires its DPoP nonce
};

class BadRequest extends Error {
  status = 400;
}

function requireString(body, name) {
  if (typeof body[name] !== 'string' || body[name] === '') throw new BadRequest(`"${name}" must be a non-empty string`);
  return body[name];
}

function updateSettings(settings, changes) {
  for (const [name, value] of Object.entries(changes)) {
    if (!Object.hasOwn(SETTINGS, name)) {
      throw new BadRequest(`unknown setting "${name}"; known: ${Object.keys(SETTINGS).join(', ')}`);
    }
    const { min, values } = SETTINGS[name];
    if (values && !values.includes(value)) {
      throw new BadRequest(`"${name}" must be one of ${values.map((v) => `"${v}"`).join(', ')}`);
    }
    if (!values && (!Number.isInteger(value) || value < min)) {
      throw new BadRequest(`"${name}" must be an integer >= ${min}`);
    }
  }
  Object.assign(settings, changes);
  return { ...settings };
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let body;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`the request body is not JSON: ${err.message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('the request body must be a JSON object');
  }
  return body;
}

function optional(body, name, check, what) {
  if (body[name] === undefined) return undefined;
  if (!check(body[name])) throw new BadRequest(`"${name}" must be ${what}`);
  return body[name];
}
const isString = (value) => typeof value === 'string' && value !== '';
const isAudience = (value) => isString(value) || (Array.isArray(value) && value.length > 0 && value.every(isString));

/**
 * A node:http handler for /__test/* requests. keys: signing-keys.mjs's handle; ca: the CA the
 * provider's certificate chains to (TLS mode), for the provider's calls to itself.
 */
export function controlApi({
  issuer, routes, settings, stats, keys, ca,
}) {
  const tokenEndpoint = `${issuer}${routes.token}`;
  const handlers = {
    'POST /__test/authorize': (body) => {
      const url = requireString(body, 'url');
      if (!URL.canParse(url) || new URL(url).origin !== new URL(issuer).origin) {
        throw new BadRequest(`"url" must be an authorization request URL on ${issuer}`);
      }
      return authorize(issuer, body, { ca });
    },
    'POST /__test/device': (body) => {
      requireString(body, 'userCode');
      return approveDevice(issuer, `${issuer}${routes.code_verification}`, body, { ca });
    },
    'GET /__test/stats': () => stats.snapshot(),
    'POST /__test/stats/reset': () => stats.reset(),
    'GET /__test/config': () => ({ ...settings }),
    'POST /__test/config': (body) => updateSettings(settings, body),
    'POST /__test/introspect': (body) => introspect(issuer, routes, body, ca),
    'POST /__test/rotate-keys': (body) => ({
      kid: keys.rotate({ keepOld: optional(body, 'keepOld', (v) => typeof v === 'boolean', 'a boolean') }),
    }),
    'POST /__test/jwt-assertion': async (body) => ({
      assertion: await signJwtAssertion({
        sub: requireString(body, 'sub'),
        aud: optional(body, 'aud', isAudience, 'a non-empty string or array of strings') ?? tokenEndpoint,
        expiresIn: optional(body, 'expiresIn', Number.isInteger, 'an integer (seconds; negative: expired)'),
        iss: optional(body, 'iss', isString, 'a non-empty string'),
      }),
    }),
    'POST /__test/saml-assertion': (body) => ({
      xml: signSamlAssertion({
        nameId: requireString(body, 'nameId'),
        audience: optional(body, 'audience', isString, 'a non-empty string') ?? issuer,
        recipient: tokenEndpoint,
        notOnOrAfterSeconds: optional(body, 'notOnOrAfterSeconds', Number.isInteger, 'an integer (seconds; negative: expired)'),
        tamper: optional(body, 'tamper', (v) => typeof v === 'boolean', 'a boolean'),
        issuer: optional(body, 'issuer', isString, 'a non-empty string'),
      }),
    }),
  };

  return async function control(req, res) {
    const { pathname } = new URL(req.url, issuer);
    const handler = handlers[`${req.method} ${pathname}`];
    let status = 200;
    let answer;
    try {
      if (!handler) throw Object.assign(new Error(`no control route ${req.method} ${pathname}`), { status: 404 });
      answer = await handler(await readJson(req));
    } catch (err) {
      status = err.status ?? 500;
      answer = { error: err.message };
      if (status === 500) console.error(`control API ${req.method} ${pathname}: ${err.message}`);
    }
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(answer));
  };
}

/** RFC 7662 introspection as confidential-app; the provider's JSON answer is passed through. */
export async function introspect(issuer, routes, body, ca) {
  const form = new URLSearchParams({ token: requireString(body, 'token') });
  if (typeof body.token_type_hint === 'string') form.set('token_type_hint', body.token_type_hint);
  const res = await httpRequest(`${issuer}${routes.introspection}`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('confidential-app:confidential-secret').toString('base64')}`,
      'x-test-control': '1', // not counted in the stats
    },
    body: form,
    ca,
  });
  const answer = JSON.parse(res.text);
  if (res.status !== 200) throw new Error(`introspection failed (HTTP ${res.status}): ${JSON.stringify(answer)}`);
  return answer;
}
