// verify_assertion.mjs: checks the X-WebStream-Assertion header that a WebStream gateway adds to every
// request it proxies to a session host (CONTRACT §8, docs/proxy.md "Backend assertion"), and returns the
// identity the request carries. Node >= 18, no dependencies.
//
// Keys: GET /gateway/.well-known/jwks.json on the gateway (every access-management mode: in standalone/external
// mode the gateway signs with its own keys). In builtin mode /iam/.well-known/jwks.json holds the same keys.
//
// As a library:
//   import { verifyAssertion, loadJwks } from './verify_assertion.mjs';
//   const jwks = await loadJwks('http://gateway:9000/gateway/.well-known/jwks.json');
//   const identity = verifyAssertion(req.headers, jwks, { backendId });   // throws AssertionRejected
//
// From a shell (reads a JSON headers document: an object, or a list of [name, value] pairs):
//   node verify_assertion.mjs --jwks <file|url> --backend-id <id> [--headers <file>] [--issuer webstream]
//   exit 0 and the identity as JSON on stdout; exit 1 and "rejected: <code>: <why>" on stderr; 2: bad usage.
//
// What is checked, in order: exactly one assertion; its JWT header (alg EdDSA, typ webstream-assertion+jwt,
// a kid found in the JWKS); the Ed25519 signature; exp/iat/nbf with a small leeway; aud == this backend's
// backendId (the answer of POST /gateway/register); iss when asked; pol == base64url(SHA-256(X-Policy-JSON));
// and that X-User-ID, X-Org-ID, X-Session-ID, X-Workspace-ID and X-App-ID equal the signed sub, org, sid, ws
// and app. X-Username, X-Workspace-Name/-Type and X-App-Exe/-Args are not covered by the signature: the
// returned identity lists them under `unsigned`; look them up by id if you act on them.

import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const ASSERTION_TYP = 'webstream-assertion+jwt';

export class AssertionRejected extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'AssertionRejected';
    this.code = code;  // no_assertion, malformed, bad_header, unknown_kid, bad_signature, expired, not_yet_valid,
                       // wrong_audience, wrong_issuer, policy_mismatch, header_mismatch
  }
}

const reject = (code, message) => { throw new AssertionRejected(code, message); };
const B64URL = /^[A-Za-z0-9_-]+$/;

function b64urlDecode(part, what) {
  if (typeof part !== 'string' || !B64URL.test(part)) reject('malformed', `${what} is not base64url`);
  return Buffer.from(part, 'base64url');
}

function parseJsonPart(part, what) {
  let value;
  try {
    value = JSON.parse(b64urlDecode(part, what).toString('utf8'));
  } catch (e) {
    if (e instanceof AssertionRejected) throw e;
    reject('malformed', `${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) reject('malformed', `${what} is not an object`);
  return value;
}

// Every value of header `name` (any case). Accepts a Node IncomingMessage.headers object, a fetch Headers
// object, a plain object, or a list of [name, value] pairs.
function headerValues(headers, name) {
  const lname = name.toLowerCase();
  if (typeof headers?.get === 'function' && typeof headers?.has === 'function') {
    return headers.has(lname) ? [headers.get(lname)] : [];
  }
  const out = [];
  const entries = Array.isArray(headers) ? headers : Object.entries(headers ?? {});
  for (const [key, value] of entries) {
    if (String(key).toLowerCase() !== lname) continue;
    if (Array.isArray(value)) out.push(...value.map(String));
    else if (value !== undefined) out.push(String(value));
  }
  return out;
}

// The single value of header `name`; two values are refused (the gateway sends exactly one of each).
function oneHeader(headers, name, { required = true } = {}) {
  const values = headerValues(headers, name);
  if (values.length > 1) reject(name === 'X-WebStream-Assertion' ? 'malformed' : 'header_mismatch',
                                `${name} appears ${values.length} times`);
  if (values.length === 0) {
    if (required) reject(name === 'X-WebStream-Assertion' ? 'no_assertion' : 'header_mismatch', `no ${name} header`);
    return '';
  }
  return values[0];
}

// base64url (no padding) of SHA-256 over the X-Policy-JSON value exactly as received: the `pol` claim.
export function policyDigest(policyHeaderValue) {
  return createHash('sha256').update(policyHeaderValue, 'utf8').digest('base64url');
}

function publicKeyFor(jwks, kid) {
  const keys = Array.isArray(jwks?.keys) ? jwks.keys : [];
  const jwk = keys.find((k) => k && k.kid === kid);
  if (!jwk) reject('unknown_kid', `no key "${kid}" in the JWKS (refresh it once: the gateway may have rotated keys)`);
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') reject('bad_header', `key "${kid}" is not an Ed25519 key`);
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA') reject('bad_header', `key "${kid}" is not for EdDSA`);
  if (jwk.use !== undefined && jwk.use !== 'sig') reject('bad_header', `key "${kid}" is not a signing key`);
  try {
    return createPublicKey({ key: { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, format: 'jwk' });
  } catch {
    return reject('bad_header', `key "${kid}" cannot be loaded`);
  }
}

/**
 * Verifies the assertion in `headers` and returns the identity of the request.
 * @param headers  the request's headers (see headerValues)
 * @param jwks     {keys:[…]} from the gateway's JWKS
 * @param options  backendId (required: this host's backendId), issuer (optional, e.g. "webstream"),
 *                 leewaySeconds (default 30), nowSeconds (default: the clock)
 * @throws AssertionRejected with a `code` when anything does not match
 */
export function verifyAssertion(headers, jwks, { backendId, issuer, leewaySeconds = 30, nowSeconds } = {}) {
  if (typeof backendId !== 'string' || backendId === '') throw new TypeError('backendId is required');
  const now = nowSeconds ?? Math.floor(Date.now() / 1000);

  const token = oneHeader(headers, 'X-WebStream-Assertion').trim();
  const parts = token.split('.');
  if (parts.length !== 3) reject('malformed', 'the assertion is not a compact JWS');
  const [headerPart, payloadPart, signaturePart] = parts;
  const header = parseJsonPart(headerPart, 'the JWT header');
  if (header.alg !== 'EdDSA') reject('bad_header', `alg "${header.alg}" is not accepted`);
  if (header.typ !== ASSERTION_TYP) reject('bad_header', `typ "${header.typ}" is not ${ASSERTION_TYP}`);
  if (typeof header.kid !== 'string') reject('bad_header', 'the JWT header has no kid');
  if (header.crit !== undefined) reject('bad_header', 'crit is not supported');

  const key = publicKeyFor(jwks, header.kid);
  const signature = b64urlDecode(signaturePart, 'the signature');
  const signingInput = Buffer.from(`${headerPart}.${payloadPart}`, 'ascii');
  if (signature.length !== 64 || !verify(null, signingInput, key, signature)) {
    reject('bad_signature', 'the signature does not verify');
  }

  // Only now is the payload worth reading.
  const claims = parseJsonPart(payloadPart, 'the JWT payload');
  if (typeof claims.exp !== 'number') reject('malformed', 'no exp claim');
  if (now > claims.exp + leewaySeconds) reject('expired', `expired at ${claims.exp}, now ${now}`);
  if (typeof claims.iat === 'number' && claims.iat > now + leewaySeconds) reject('not_yet_valid', 'iat is in the future');
  if (typeof claims.nbf === 'number' && claims.nbf > now + leewaySeconds) reject('not_yet_valid', 'nbf is in the future');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(backendId)) reject('wrong_audience', `made for "${claims.aud}", not for "${backendId}"`);
  if (issuer !== undefined && claims.iss !== issuer) reject('wrong_issuer', `iss "${claims.iss}" is not "${issuer}"`);

  const policyHeader = oneHeader(headers, 'X-Policy-JSON', { required: false });
  if (typeof claims.pol !== 'string' || policyDigest(policyHeader) !== claims.pol) {
    reject('policy_mismatch', 'X-Policy-JSON is not the policy the gateway signed');
  }
  const signed = { 'X-User-ID': 'sub', 'X-Org-ID': 'org', 'X-Session-ID': 'sid', 'X-Workspace-ID': 'ws', 'X-App-ID': 'app' };
  for (const [name, claim] of Object.entries(signed)) {
    const value = oneHeader(headers, name, { required: false });
    if (value !== String(claims[claim] ?? '')) reject('header_mismatch', `${name} does not match the signed "${claim}"`);
  }

  let policy = null;
  if (policyHeader !== '') {
    try {
      policy = JSON.parse(Buffer.from(policyHeader, 'base64').toString('utf8'));
    } catch {
      reject('policy_mismatch', 'X-Policy-JSON is not base64 of JSON');
    }
  }
  return {
    userId: claims.sub, orgId: claims.org, sessionId: claims.sid, workspaceId: claims.ws, appId: claims.app,
    policy, expiresAt: claims.exp, issuer: claims.iss,
    unsigned: {
      username: oneHeader(headers, 'X-Username', { required: false }),
      workspaceName: oneHeader(headers, 'X-Workspace-Name', { required: false }),
      workspaceType: oneHeader(headers, 'X-Workspace-Type', { required: false }),
      appExe: oneHeader(headers, 'X-App-Exe', { required: false }),
      appArgs: oneHeader(headers, 'X-App-Args', { required: false }),
    },
  };
}

// A JWKS from an http(s) URL or a file. Cache it; on `unknown_kid` load it again once (key rotation).
export async function loadJwks(source) {
  if (/^https?:\/\//i.test(source)) {
    const answer = await fetch(source);
    if (!answer.ok) throw new Error(`GET ${source} answered ${answer.status}`);
    return answer.json();
  }
  return JSON.parse(readFileSync(source, 'utf8'));
}

async function main(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i];
    if (!['--jwks', '--backend-id', '--headers', '--issuer'].includes(name) || argv[i + 1] === undefined) {
      process.stderr.write(`usage: node verify_assertion.mjs --jwks <file|url> --backend-id <id> [--headers <file>] ` +
                           `[--issuer <iss>]\n`);
      return 2;
    }
    args[name.slice(2)] = argv[i + 1];
  }
  if (!args.jwks || !args['backend-id']) return main(['--help']);
  let headers, jwks;
  try {
    headers = JSON.parse(readFileSync(args.headers ?? 0, 'utf8'));
    jwks = await loadJwks(args.jwks);
  } catch (e) {
    process.stderr.write(`error: ${e.message}\n`);
    return 2;
  }
  try {
    const identity = verifyAssertion(headers, jwks, { backendId: args['backend-id'], issuer: args.issuer });
    process.stdout.write(JSON.stringify(identity) + '\n');
    return 0;
  } catch (e) {
    if (!(e instanceof AssertionRejected)) throw e;
    process.stderr.write(`rejected: ${e.code}: ${e.message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
