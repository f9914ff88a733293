import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';

import { fixture } from '../fixtures.mjs';

const YEAR_MS = 365 * 24 * 3600 * 1000;

test('private keys: PKCS#8, RSA-2048 or P-256', () => {
  const expected = {
    'client-rsa.key.pem': { type: 'rsa', modulusLength: 2048 },
    'assertion-rsa.key.pem': { type: 'rsa', modulusLength: 2048 },
    'saml.key.pem': { type: 'rsa', modulusLength: 2048 },
    'ca.key.pem': { type: 'rsa', modulusLength: 2048 },
    'server.key.pem': { type: 'rsa', modulusLength: 2048 },
    'client-ec.key.pem': { type: 'ec', namedCurve: 'prime256v1' },
  };
  for (const [file, { type, ...details }] of Object.entries(expected)) {
    const pem = fixture(file);
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n/, `${file} is PKCS#8`);
    const key = createPrivateKey(pem);
    assert.equal(key.asymmetricKeyType, type, file);
    for (const [name, value] of Object.entries(details)) assert.equal(key.asymmetricKeyDetails[name], value, `${file} ${name}`);
  }
});

test('certificates: long-lived; the server certificate is signed by the CA for 127.0.0.1 and localhost', () => {
  const ca = new X509Certificate(fixture('ca.cert.pem'));
  const server = new X509Certificate(fixture('server.cert.pem'));
  const saml = new X509Certificate(fixture('saml.cert.pem'));
  for (const cert of [ca, server, saml]) {
    assert.ok(Date.parse(cert.validTo) > Date.now() + 15 * YEAR_MS, `${cert.subject} valid for many years`);
  }
  assert.equal(ca.ca, true);
  assert.equal(server.ca, false);
  assert.ok(server.verify(ca.publicKey), 'signed by the CA');
  assert.ok(server.checkIssued(ca));
  assert.equal(server.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(server.checkHost('localhost'), 'localhost');
  assert.ok(server.checkPrivateKey(createPrivateKey(fixture('server.key.pem'))));
  assert.ok(ca.checkPrivateKey(createPrivateKey(fixture('ca.key.pem'))));
  assert.ok(saml.verify(saml.publicKey), 'self-signed');
  assert.ok(saml.checkPrivateKey(createPrivateKey(fixture('saml.key.pem'))));
  assert.deepEqual(
    createPublicKey(fixture('saml.key.pem')).export({ format: 'jwk' }),
    saml.publicKey.export({ format: 'jwk' }),
  );
});
