import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startProvider } from '../provider.mjs';
import { control, postForm } from '../test-helpers.mjs';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

let idp;
before(async () => { idp = await startProvider({ deviceInterval: 1 }); });
after(() => idp.close());

const authorizeDevice = () => postForm(idp, '/device/auth', { client_id: 'native-app', scope: 'openid offline_access profile' });
const poll = (deviceCode) => postForm(idp, '/token', { grant_type: DEVICE_CODE, device_code: deviceCode, client_id: 'native-app' });
const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

test('device flow: interval, authorization_pending, slow_down, forced slow_down, approval', async () => {
  const device = await authorizeDevice();
  assert.equal(device.status, 200, JSON.stringify(device.json));
  assert.equal(device.json.interval, 1);
  assert.match(device.json.user_code, /^[A-Z]{4}-[A-Z]{4}$/);
  assert.equal(device.json.verification_uri, `${idp.issuer}/device`);
  const code = device.json.device_code;

  // The first poll is never too soon; the next one, right away, is.
  assert.equal((await poll(code)).json.error, 'authorization_pending');
  const tooFast = await poll(code);
  assert.equal(tooFast.status, 400);
  assert.equal(tooFast.json.error, 'slow_down');
  assert.match(tooFast.json.error_description, /6 seconds/);

  // slowDown: 1 turns the next on-time pending poll (of any device code) into slow_down.
  const other = (await authorizeDevice()).json;
  const patient = (await authorizeDevice()).json;
  assert.equal((await poll(patient.device_code)).json.error, 'authorization_pending');
  assert.equal((await control(idp, 'POST', '/config', { slowDown: 1 })).json.slowDown, 1);
  assert.equal((await poll(other.device_code)).json.error, 'slow_down');
  assert.equal((await control(idp, 'GET', '/config')).json.slowDown, 0);
  await sleep(1000);
  assert.equal((await poll(other.device_code)).json.error, 'slow_down', 'its interval is now 6 s');
  assert.equal((await poll(patient.device_code)).json.error, 'authorization_pending', 'waited 1 s: on time');

  // The user approves; the next poll gets tokens.
  const approval = await control(idp, 'POST', '/device', { userCode: device.json.user_code, login: 'alice', password: 'alice-password' });
  assert.deepEqual(approval, { status: 200, json: { ok: true } });
  const tokens = await poll(code);
  assert.equal(tokens.status, 200, JSON.stringify(tokens.json));
  assert.ok(tokens.json.access_token);
  assert.ok(tokens.json.id_token);
  assert.ok(tokens.json.refresh_token);
  assert.equal((await poll(code)).json.error, 'invalid_grant', 'a device code is good once');
});

test('device flow: a user who denies makes the client get access_denied', async () => {
  const device = (await authorizeDevice()).json;
  const denial = await control(idp, 'POST', '/device', { userCode: device.user_code, login: 'bob', password: 'bob-password', deny: true });
  assert.deepEqual(denial, { status: 200, json: { ok: true, denied: true } });
  const answer = await poll(device.device_code);
  assert.equal(answer.status, 400);
  assert.equal(answer.json.error, 'access_denied');
});

test('device flow: an unknown user code is an error of the control API', async () => {
  const { status, json } = await control(idp, 'POST', '/device', { userCode: 'BCDF-GHJK' });
  assert.equal(status, 500);
  assert.match(json.error, /user code "BCDF-GHJK" was not accepted: the code was not found/);
});

test('the device interval can be changed at run time', async () => {
  await control(idp, 'POST', '/config', { deviceInterval: 3 });
  assert.equal((await authorizeDevice()).json.interval, 3);
  await control(idp, 'POST', '/config', { deviceInterval: 1 });
  const bad = await control(idp, 'POST', '/config', { deviceInterval: -1 });
  assert.equal(bad.status, 400);
});
