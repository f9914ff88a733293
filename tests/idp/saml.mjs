// RFC 7522 SAML 2.0 bearer assertions: made (and signed with XML-DSig) by the test SAML issuer
// (fixtures/saml.key.pem, saml.cert.pem) and checked by the
// urn:ietf:params:oauth:grant-type:saml2-bearer grant (grants.mjs). Signing, canonicalisation and
// verification are xml-crypto's; parsing is @xmldom/xmldom's.
import { randomBytes } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';

import { SAML_ISSUER, fixture } from './fixtures.mjs';

export const SAML_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
export const SAML_SKEW_SECONDS = 60;

const escapeXml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const instant = (seconds) => new Date(Math.floor(Date.now() / 1000) * 1000 + seconds * 1000).toISOString().replace('.000Z', 'Z');

/**
 * A signed <saml:Assertion> (XML text). The enveloped signature (RSA-SHA256, exclusive c14n, SHA-256
 * digest, certificate in KeyInfo) covers the whole assertion and sits after <saml:Issuer>, as SAML
 * requires. notOnOrAfterSeconds may be negative (an expired assertion). tamper: true changes the
 * NameID after signing (to another known user), so only the signature check fails.
 * key and cert are for negative tests (a signature by someone else).
 */
export function signSamlAssertion({
  nameId, audience, recipient = audience, issuer = SAML_ISSUER, notOnOrAfterSeconds = 300, tamper = false,
  key = fixture('saml.key.pem'), cert = fixture('saml.cert.pem'),
}) {
  const id = `_${randomBytes(16).toString('hex')}`;
  const notOnOrAfter = instant(notOnOrAfterSeconds);
  const xml = `<saml:Assertion xmlns:saml="${SAML_NS}" ID="${id}" Version="2.0" IssueInstant="${instant(0)}">`
    + `<saml:Issuer>${escapeXml(issuer)}</saml:Issuer>`
    + '<saml:Subject>'
    + `<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${escapeXml(nameId)}</saml:NameID>`
    + '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
    + `<saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}" Recipient="${escapeXml(recipient)}"/>`
    + '</saml:SubjectConfirmation>'
    + '</saml:Subject>'
    + `<saml:Conditions NotBefore="${instant(-SAML_SKEW_SECONDS)}" NotOnOrAfter="${notOnOrAfter}">`
    + `<saml:AudienceRestriction><saml:Audience>${escapeXml(audience)}</saml:Audience></saml:AudienceRestriction>`
    + '</saml:Conditions>'
    + `<saml:AuthnStatement AuthnInstant="${instant(0)}">`
    + '<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified'
    + '</saml:AuthnContextClassRef></saml:AuthnContext>'
    + '</saml:AuthnStatement>'
    + '</saml:Assertion>';

  const signer = new SignedXml({
    privateKey: key, publicCert: cert, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N,
  });
  signer.addReference({
    xpath: "/*[local-name(.)='Assertion']", digestAlgorithm: SHA256, transforms: [ENVELOPED, EXC_C14N],
  });
  signer.computeSignature(xml, {
    prefix: 'ds',
    location: { reference: "/*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' },
  });
  const signed = signer.getSignedXml();
  if (!tamper) return signed;
  const other = nameId === 'alice' ? 'bob' : 'alice';
  const tampered = signed.replace(`>${escapeXml(nameId)}</saml:NameID>`, `>${other}</saml:NameID>`);
  if (tampered === signed) throw new Error('could not tamper with the NameID');
  return tampered;
}

/** Decodes the `assertion` parameter: base64url, padded or not (the + and / alphabet is accepted too). */
export function decodeSamlParameter(value) {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) throw new Error('the assertion is not base64url-encoded');
  const bytes = Buffer.from(value.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
  return bytes.toString('utf8');
}

function parseXml(xml) {
  const fail = (message) => { throw new Error(`the assertion is not well-formed XML: ${message}`); };
  const doc = new DOMParser({ errorHandler: { warning: () => {}, error: fail, fatalError: fail } })
    .parseFromString(xml, 'text/xml');
  if (!doc?.documentElement) fail('no root element');
  return doc;
}

const children = (element, ns, name) => Array.from(element.childNodes)
  .filter((node) => node.nodeType === 1 && node.namespaceURI === ns && node.localName === name);

/** The only child element `name` of `element` (SAML namespace), or an error. */
function only(element, name, required = true) {
  const found = children(element, SAML_NS, name);
  if (found.length > 1) throw new Error(`<saml:${element.localName}> has more than one <saml:${name}>`);
  if (required && found.length === 0) throw new Error(`<saml:${element.localName}> has no <saml:${name}>`);
  return found[0];
}

function time(element, attribute, required) {
  const value = element?.getAttribute(attribute);
  if (!value) {
    if (required) throw new Error(`<saml:${element?.localName ?? 'Conditions'}> has no ${attribute}`);
    return undefined;
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`${attribute}="${value}" is not a date and time`);
  return ms;
}

/**
 * Checks a SAML 2.0 assertion (XML text): one enveloped XML-DSig signature, RSA-SHA256, valid with
 * fixtures/saml.cert.pem (a certificate in KeyInfo is ignored) and covering the whole assertion;
 * then, read from the signed content only: Issuer = the test SAML issuer, Subject/NameID present,
 * Conditions NotOnOrAfter in the future and NotBefore (if any) not in the future (60 s of skew),
 * every AudienceRestriction naming `audience`. Returns { nameId, issuer, notOnOrAfter };
 * throws an Error saying what is wrong.
 */
export function verifySamlAssertion(xml, { audience, cert = fixture('saml.cert.pem') }) {
  const doc = parseXml(xml);
  const root = doc.documentElement;
  if (root.namespaceURI !== SAML_NS || root.localName !== 'Assertion') {
    throw new Error('the root element is not a SAML 2.0 <saml:Assertion>');
  }
  const signatures = children(root, DSIG_NS, 'Signature');
  if (signatures.length !== 1) throw new Error('the assertion must carry exactly one enveloped <ds:Signature>');

  const verifier = new SignedXml({ publicCert: cert, getCertFromKeyInfo: () => null });
  verifier.loadSignature(signatures[0]);
  if (verifier.signatureAlgorithm !== RSA_SHA256) {
    throw new Error(`the signature must use RSA-SHA256, not ${verifier.signatureAlgorithm}`);
  }
  let valid;
  try {
    valid = verifier.checkSignature(xml);
  } catch (err) {
    throw new Error(`the assertion signature is invalid: ${err.message.slice(0, 120)}`);
  }
  if (!valid) throw new Error('the assertion signature is invalid');

  // Only what was signed is read: the one signed reference must be this very assertion.
  const signedParts = verifier.getSignedReferences();
  if (signedParts.length !== 1) throw new Error('the signature must cover exactly one reference, the assertion');
  const assertion = parseXml(signedParts[0]).documentElement;
  const id = root.getAttribute('ID');
  if (assertion.namespaceURI !== SAML_NS || assertion.localName !== 'Assertion' || !id
    || assertion.getAttribute('ID') !== id) {
    throw new Error('the signature does not cover the assertion');
  }
  if (assertion.getAttribute('Version') !== '2.0') throw new Error('the assertion is not SAML version 2.0');

  const issuer = only(assertion, 'Issuer').textContent.trim();
  if (issuer !== SAML_ISSUER) throw new Error(`the assertion issuer "${issuer}" is not trusted`);

  const nameId = only(only(assertion, 'Subject'), 'NameID').textContent.trim();
  if (!nameId) throw new Error('<saml:NameID> is empty');

  const now = Date.now();
  const skew = SAML_SKEW_SECONDS * 1000;
  const conditions = only(assertion, 'Conditions');
  const notOnOrAfter = time(conditions, 'NotOnOrAfter', true);
  if (now - skew >= notOnOrAfter) throw new Error('the assertion has expired (Conditions NotOnOrAfter)');
  const notBefore = time(conditions, 'NotBefore', false);
  if (notBefore !== undefined && now + skew < notBefore) throw new Error('the assertion is not yet valid (Conditions NotBefore)');

  const restrictions = children(conditions, SAML_NS, 'AudienceRestriction');
  if (restrictions.length === 0) throw new Error('the assertion has no <saml:AudienceRestriction>');
  for (const restriction of restrictions) {
    const audiences = children(restriction, SAML_NS, 'Audience').map((node) => node.textContent.trim());
    if (!audiences.includes(audience)) {
      throw new Error(`the assertion audience (${audiences.join(', ') || 'none'}) does not include ${audience}`);
    }
  }
  return { nameId, issuer, notOnOrAfter: new Date(notOnOrAfter).toISOString() };
}
