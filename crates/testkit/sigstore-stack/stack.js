'use strict';
// The keyless test stack's Fulcio, certificate transparency log and Rekor v1, made by Sigstore's
// own @sigstore/mock, with an OIDC issuer, behind one HTTP server on loopback. Started by the
// test kit (crates/testkit/src/sigstore.rs): `node stack.js`, which prints one JSON line (the
// base URL and the public material the trusted root needs) when it listens, and stops when its
// standard input closes.
//
// The mock's handlers accept any token and any proof of possession and answer 201; Fulcio
// answers 200 and refuses both, so this wrapper answers as Fulcio does: the token's signature
// (this issuer's key), issuer, audience (`sigstore`) and expiry are checked (401 otherwise), and
// the proof of possession, a signature over the token's verified email or else its subject by
// the key to certify, is checked (400 otherwise).
//
// Routes (the issuer is `<base>/oidc`):
//   GET  /oidc/.well-known/openid-configuration, /oidc/jwks   discovery and keys
//   GET  /oidc/token?sub=S[&email=E][&aud=A][&expires_in=N][&iss=I]   mints a token (tests)
//   GET  /oidc/authorize, POST /oidc/token, POST /oidc/device          browser and device flows
//   GET  /oidc/device/approve?user_code=C                              the user approving a device
//   GET  /github/token?audience=A                                       GitHub Actions' token endpoint
//   POST /buildkite/jobs/<job>/oidc/tokens {audience}                   Buildkite's agent API
//   POST /api/v2/signingCert                                            Fulcio
//   POST /api/v1/log/entries                                            Rekor v1
//   POST /__stack/fault {service, kind, status?, times?}, DELETE /__stack/fault   fault injection
//   GET  /__stack/requests                                              requests served, by path

const http = require('http');
const crypto = require('crypto');
const { initializeCA, initializeCTLog, initializeTLog, rekorHandler } = require('@sigstore/mock');
const jose = require('jose');
const x509 = require('@peculiar/x509');

const AUDIENCE = 'sigstore';
const BODY_LIMIT = 1024 * 1024;

function ecKeyPair(namedCurve) {
  return crypto.generateKeyPairSync('ec', { namedCurve });
}

function spkiDer(publicKey) {
  return publicKey.export({ format: 'der', type: 'spki' });
}

function pem(der, label) {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g);
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function readBody(request) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new Error('request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function answer(response, status, body, contentType = 'application/json') {
  const bytes = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': contentType });
  response.end(bytes);
}

async function main() {
  const caKeys = ecKeyPair('P-384');
  const ctKeys = ecKeyPair('P-256');
  const otherCtKeys = ecKeyPair('P-256');
  const rekorKeys = ecKeyPair('P-256');
  const oidcKeys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ctLog = await initializeCTLog(ctKeys);
  // The same root key with no CT log, and with a CT log nobody trusts: leaves that chain to the
  // trusted root but carry no SCT, or an SCT that does not verify.
  const ca = await initializeCA(caKeys, ctLog);
  const caWithoutSct = await initializeCA(caKeys);
  const caWithUntrustedSct = await initializeCA(caKeys, await initializeCTLog(otherCtKeys));

  const faults = [];
  const served = {};
  let base = '';
  let issuer = '';
  const jwk = { ...oidcKeys.publicKey.export({ format: 'jwk' }), kid: 'stack', alg: 'RS256', use: 'sig' };

  function takeFault(service) {
    const index = faults.findIndex((fault) => fault.service === service);
    if (index < 0) return undefined;
    const fault = faults[index];
    if (fault.times !== undefined) {
      fault.times -= 1;
      if (fault.times <= 0) faults.splice(index, 1);
    }
    return fault;
  }

  async function mint({ sub, email, aud = AUDIENCE, expiresIn = 600, iss = issuer, nonce }) {
    const claims = { sub };
    if (email) {
      claims.email = email;
      claims.email_verified = true;
    }
    if (nonce) claims.nonce = nonce;
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'stack', typ: 'JWT' })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(now - 5)
      .setExpirationTime(now + Number(expiresIn))
      .sign(oidcKeys.privateKey);
  }

  // The browser flow (authorization code with PKCE) and the device flow (RFC 8628): the user
  // is the `login_hint` of the authorization request, or `browser-user`'s default.
  const codes = new Map();
  const devices = new Map();
  const defaultUser = { sub: 'https://user.cosign-rs.test/interactive' };

  async function oidc(request, response, url, body) {
    const path = url.pathname.slice('/oidc'.length);
    if (request.method === 'GET' && path === '/.well-known/openid-configuration') {
      return answer(response, 200, {
        issuer,
        jwks_uri: `${issuer}/jwks`,
        token_endpoint: `${issuer}/token`,
        authorization_endpoint: `${issuer}/authorize`,
        device_authorization_endpoint: `${issuer}/device`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
        grant_types_supported: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
      });
    }
    if (request.method === 'GET' && path === '/jwks') {
      return answer(response, 200, { keys: [jwk] });
    }
    if (request.method === 'GET' && path === '/token') {
      const query = url.searchParams;
      if (!query.get('sub')) return answer(response, 400, { error: 'sub is required' });
      const token = await mint({
        sub: query.get('sub'),
        email: query.get('email') || undefined,
        aud: query.get('aud') || AUDIENCE,
        expiresIn: query.get('expires_in') || 600,
        iss: query.get('iss') || issuer,
      });
      return answer(response, 200, token, 'text/plain');
    }
    if (request.method === 'GET' && path === '/authorize') {
      const query = url.searchParams;
      const redirect = query.get('redirect_uri');
      if (query.get('response_type') !== 'code' || !redirect || !query.get('code_challenge')
        || query.get('code_challenge_method') !== 'S256') {
        return answer(response, 400, { error: 'invalid_request' });
      }
      const code = crypto.randomBytes(16).toString('hex');
      codes.set(code, {
        challenge: query.get('code_challenge'),
        redirect,
        nonce: query.get('nonce') || undefined,
        clientId: query.get('client_id'),
        user: query.get('login_hint') ? { sub: query.get('login_hint') } : defaultUser,
      });
      const target = new URL(redirect);
      target.searchParams.set('code', code);
      if (query.get('state') !== null) target.searchParams.set('state', query.get('state'));
      response.writeHead(302, { Location: target.toString() });
      return response.end();
    }
    if (request.method === 'POST' && path === '/device') {
      const form = new URLSearchParams(body.toString());
      const deviceCode = crypto.randomBytes(16).toString('hex');
      const userCode = crypto.randomBytes(4).toString('hex').toUpperCase();
      devices.set(deviceCode, { userCode, clientId: form.get('client_id'), approved: null, polls: 0 });
      return answer(response, 200, {
        device_code: deviceCode,
        user_code: userCode,
        verification_uri: `${issuer}/device/approve`,
        verification_uri_complete: `${issuer}/device/approve?user_code=${userCode}`,
        expires_in: 300,
        interval: 1,
      });
    }
    if (request.method === 'GET' && path === '/device/approve') {
      const userCode = url.searchParams.get('user_code');
      for (const device of devices.values()) {
        if (device.userCode === userCode) {
          device.approved = url.searchParams.get('sub') ? { sub: url.searchParams.get('sub') } : defaultUser;
          return answer(response, 200, 'approved', 'text/plain');
        }
      }
      return answer(response, 404, 'no such user code', 'text/plain');
    }
    if (request.method === 'POST' && path === '/token') {
      const form = new URLSearchParams(body.toString());
      const grant = form.get('grant_type');
      if (grant === 'authorization_code') {
        const pending = codes.get(form.get('code'));
        codes.delete(form.get('code'));
        if (!pending || pending.redirect !== form.get('redirect_uri')) {
          return answer(response, 400, { error: 'invalid_grant' });
        }
        const verifier = form.get('code_verifier') || '';
        const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
        if (challenge !== pending.challenge) {
          return answer(response, 400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        }
        const idToken = await mint({ ...pending.user, nonce: pending.nonce });
        return answer(response, 200, { access_token: 'unused', token_type: 'Bearer', id_token: idToken, expires_in: 600 });
      }
      if (grant === 'urn:ietf:params:oauth:grant-type:device_code') {
        const device = devices.get(form.get('device_code'));
        if (!device) return answer(response, 400, { error: 'expired_token' });
        device.polls += 1;
        if (!device.approved) return answer(response, 400, { error: 'authorization_pending' });
        devices.delete(form.get('device_code'));
        const idToken = await mint(device.approved);
        return answer(response, 200, { access_token: 'unused', token_type: 'Bearer', id_token: idToken, expires_in: 600 });
      }
      return answer(response, 400, { error: 'unsupported_grant_type' });
    }
    return answer(response, 404, { error: 'not found' });
  }

  async function fulcio(request, response, body) {
    const authorization = request.headers.authorization || '';
    let json;
    try {
      json = JSON.parse(body.toString());
    } catch {
      return answer(response, 400, { code: 3, message: 'error parsing request body' });
    }
    const token = authorization.startsWith('Bearer ')
      ? authorization.slice('Bearer '.length)
      : json.credentials && json.credentials.oidcIdentityToken;
    if (!token) return answer(response, 401, { code: 16, message: 'no identity token' });
    let claims;
    try {
      ({ payload: claims } = await jose.jwtVerify(token, oidcKeys.publicKey, { issuer, audience: AUDIENCE }));
    } catch (error) {
      return answer(response, 401, { code: 16, message: `There was an error processing the identity token: ${error.message}` });
    }
    const identity = claims.email && claims.email_verified ? claims.email : claims.sub;
    let key;
    if (json.certificateSigningRequest) {
      // A CSR (sigstore-python sends one): its own signature is the proof of possession.
      let csr;
      try {
        csr = new x509.Pkcs10CertificateRequest(Buffer.from(json.certificateSigningRequest, 'base64').toString());
      } catch {
        return answer(response, 400, { code: 3, message: 'The certificate signing request could not be parsed' });
      }
      if (!(await csr.verify())) {
        return answer(response, 400, { code: 3, message: 'The signature supplied in the request could not be verified' });
      }
      key = crypto.createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    } else {
      const request_ = json.publicKeyRequest;
      if (!request_ || !request_.publicKey || !request_.publicKey.content || !request_.proofOfPossession) {
        return answer(response, 400, { code: 3, message: 'publicKeyRequest with a key and a proof of possession is required' });
      }
      try {
        key = crypto.createPublicKey(request_.publicKey.content);
      } catch {
        return answer(response, 400, { code: 3, message: 'The public key supplied in the request could not be parsed' });
      }
      const proof = Buffer.from(request_.proofOfPossession, 'base64');
      const algorithm = key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
      if (!crypto.verify(algorithm, Buffer.from(identity), key, proof)) {
        return answer(response, 400, { code: 3, message: 'The signature supplied in the request could not be verified' });
      }
    }
    const fault = takeFault('fulcio');
    if (fault && fault.kind === 'status') return answer(response, fault.status, { code: 14, message: 'injected' });
    let issuing = ca;
    let certified = spkiDer(key);
    if (fault && fault.kind === 'no-sct') issuing = caWithoutSct;
    if (fault && fault.kind === 'untrusted-sct') issuing = caWithUntrustedSct;
    if (fault && fault.kind === 'other-key') certified = spkiDer(ecKeyPair('P-256').publicKey);
    const extensions = [
      { oid: '1.3.6.1.4.1.57264.1.1', value: claims.iss, legacy: true },
      { oid: '1.3.6.1.4.1.57264.1.8', value: claims.iss },
    ];
    const leaf = await issuing.issueCertificate({ publicKey: certified, subjectAltName: identity, extensions });
    return answer(response, 200, {
      signedCertificateEmbeddedSct: {
        chain: { certificates: [pem(leaf, 'CERTIFICATE'), pem(issuing.rootCertificate, 'CERTIFICATE')] },
      },
    });
  }

  let rekor;
  async function rekorV1(response, body) {
    const fault = takeFault('rekor');
    if (fault && fault.kind === 'status') return answer(response, fault.status, { code: fault.status, message: 'injected' });
    let text = body.toString();
    const proposed = JSON.parse(text);
    if (proposed.kind === 'dsse' && proposed.spec && proposed.spec.proposedContent) {
      // Rekor logs a DSSE envelope in its canonical form (hashes of the envelope and payload,
      // each signature with its verifier); the mock would log the proposal as it came.
      const content = proposed.spec.proposedContent;
      const envelope = JSON.parse(content.envelope);
      const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');
      text = JSON.stringify({
        apiVersion: '0.0.1',
        kind: 'dsse',
        spec: {
          envelopeHash: { algorithm: 'sha256', value: sha256(content.envelope) },
          payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope.payload, 'base64')) },
          signatures: envelope.signatures.map((signature, index) => ({
            signature: signature.sig,
            verifier: content.verifiers[index] || content.verifiers[0],
          })),
        },
      });
    }
    if (fault && fault.kind === 'other-content') {
      const entry = JSON.parse(text);
      if (entry.spec && entry.spec.data && entry.spec.data.hash) entry.spec.data.hash.value = '0'.repeat(64);
      if (entry.spec && entry.spec.payloadHash) entry.spec.payloadHash.value = '0'.repeat(64);
      text = JSON.stringify(entry);
    }
    const result = await rekor.fn(text);
    if (fault && fault.kind === 'bad-proof' && result.statusCode === 201) {
      const entries = JSON.parse(result.response);
      for (const entry of Object.values(entries)) {
        entry.verification.inclusionProof.rootHash = crypto.randomBytes(32).toString('hex');
      }
      result.response = JSON.stringify(entries);
    }
    if (result.statusCode === 201) {
      // As Rekor: the entry's UUID in ETag and Location (sigstore-go reads the entry by ETag).
      const uuid = Object.keys(JSON.parse(result.response))[0];
      response.setHeader('ETag', uuid);
      response.setHeader('Location', `/api/v1/log/entries/${uuid}`);
    }
    return answer(response, result.statusCode, result.response, result.contentType || 'text/plain');
  }

  async function control(request, response, body) {
    if (request.method === 'POST') {
      faults.push(JSON.parse(body.toString()));
      return answer(response, 200, { faults });
    }
    if (request.method === 'DELETE') {
      faults.length = 0;
      return answer(response, 200, { faults });
    }
    return answer(response, 405, {});
  }

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, base);
    try {
      const body = await readBody(request);
      if (url.pathname === '/__stack/requests') return answer(response, 200, served);
      if (url.pathname === '/__stack/fault') return await control(request, response, body);
      served[url.pathname] = (served[url.pathname] || 0) + 1;
      if (url.pathname.startsWith('/oidc/') || url.pathname === '/oidc') {
        const fault = url.pathname.endsWith('/token') ? takeFault('oidc') : undefined;
        if (fault && fault.kind === 'status') return answer(response, fault.status, { error: 'injected' });
        return await oidc(request, response, url, body);
      }
      if (request.method === 'GET' && url.pathname === '/github/token') {
        // GitHub Actions' token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): the runner's bearer,
        // the audience asked, a token for the workflow.
        if (request.headers.authorization !== 'Bearer actions-request-token') return answer(response, 401, {});
        const token = await mint({
          sub: url.searchParams.get('sub') || 'repo:lab/app:ref:refs/heads/main',
          aud: url.searchParams.get('audience') || 'unset',
        });
        return answer(response, 200, { count: 1, value: token });
      }
      const buildkiteJob = url.pathname.match(/^\/buildkite\/jobs\/([^/]+)\/oidc\/tokens$/);
      if (request.method === 'POST' && buildkiteJob) {
        // Buildkite's agent API: the agent's access token, the audience asked, a token for
        // the job.
        if (request.headers.authorization !== 'Token buildkite-agent-token') return answer(response, 401, {});
        let audience;
        try {
          audience = JSON.parse(body.toString()).audience;
        } catch (error) {
          return answer(response, 400, {});
        }
        const token = await mint({
          sub: `organization:lab:pipeline:app:ref:refs/heads/main:step:${decodeURIComponent(buildkiteJob[1])}`,
          aud: audience || 'unset',
        });
        return answer(response, 200, { token });
      }
      if (request.method === 'POST' && url.pathname === '/api/v2/signingCert') return await fulcio(request, response, body);
      if (request.method === 'POST' && url.pathname === '/api/v1/log/entries') return await rekorV1(response, body);
      return answer(response, 404, { code: 5, message: 'not found' });
    } catch (error) {
      return answer(response, 500, { code: 13, message: String(error && error.message) });
    }
  });
  server.listen(Number(process.env.STACK_PORT || 0), '127.0.0.1', async () => {
    base = `http://127.0.0.1:${server.address().port}`;
    issuer = `${base}/oidc`;
    rekor = rekorHandler(await initializeTLog(base, rekorKeys));
    process.stdout.write(`${JSON.stringify({
      url: base,
      issuer,
      fulcioRoot: Buffer.from(ca.rootCertificate).toString('base64'),
      ctLogKey: spkiDer(ctKeys.publicKey).toString('base64'),
      rekorKey: spkiDer(rekorKeys.publicKey).toString('base64'),
    })}\n`);
  });
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
