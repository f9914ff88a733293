// RFC 8628 polling rules that oidc-provider 8 leaves out: the device authorization response gets
// an `interval`, and the token endpoint answers `slow_down` to a device code polled too soon.
//
// Both are done after oidc-provider has answered: `slow_down` is, per RFC 8628 §3.5, a variant of
// `authorization_pending`, so only a pending answer is ever turned into one. Each slow_down adds
// 5 seconds to that device code's interval. `settings.slowDown` (control API) forces the next N
// pending answers, whatever the timing, to be slow_down too.

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SLACK_MS = 50; // timer jitter forgiven to a client that waits exactly `interval`
const FINAL_ERRORS = new Set(['access_denied', 'expired_token', 'invalid_grant']);

export function devicePolling(settings, routes) {
  const codes = new Map(); // device_code -> { interval: seconds, lastPoll: ms or undefined }

  return async function devicePollingMiddleware(ctx, next) {
    if (ctx.method !== 'POST' || ![routes.device_authorization, routes.token].includes(ctx.path)) {
      return next();
    }
    const arrived = performance.now();
    await next();

    if (ctx.path === routes.device_authorization) {
      if (ctx.status === 200 && ctx.body?.device_code) {
        ctx.body.interval = settings.deviceInterval;
        codes.set(ctx.body.device_code, { interval: settings.deviceInterval, lastPoll: undefined });
      }
      return;
    }

    const { grant_type: grantType, device_code: deviceCode } = ctx.oidc?.body ?? {};
    const code = grantType === DEVICE_CODE_GRANT && codes.get(deviceCode);
    if (!code) return;
    if (ctx.status === 200 || FINAL_ERRORS.has(ctx.body?.error)) {
      codes.delete(deviceCode); // tokens issued or the code is dead: no more polling
      return;
    }
    if (ctx.body?.error !== 'authorization_pending') return;

    const tooSoon = code.lastPoll !== undefined && arrived - code.lastPoll < code.interval * 1000 - SLACK_MS;
    code.lastPoll = arrived;
    if (tooSoon || takeForcedSlowDown(settings)) {
      code.interval += 5;
      ctx.body = {
        error: 'slow_down',
        error_description: `polling too fast, wait at least ${code.interval} seconds between requests`,
      };
    }
  };
}

function takeForcedSlowDown(settings) {
  if (settings.slowDown <= 0) return false;
  settings.slowDown -= 1;
  return true;
}
