// panva/openid-client (an OpenID-certified relying-party library) against a live
// countersign: discovery, code flow with PKCE + state + nonce (RFC 9207 `iss` checked by
// the library), ID token signatures checked against the issuer's JWKS (non-repudiation
// checks on, and a tampered ID token refused by the same call), userinfo, introspection,
// refresh, revocation, RP-initiated logout.
//
// FLOW says what must happen, so that neither kind of run can pass by accident:
//   plain          no pause, no `approval` claim;
//   countersigned  the flow must stop on the waiting page (pending, no code), bob
//                  approves on his page, and both tokens carry the approval evidence
//                  naming bob (APPROVER_SUB) and the approval that was seen pending.
//
// Usage: APPROVER_SUB=… node node_openid_client.mjs ISSUER CLIENT_ID CLIENT_SECRET "SCOPE" PASSWORD FLOW [ID_TOKEN_ALG]
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';

const [issuer, clientId, clientSecret, scope, password, flow, alg = 'RS256'] = process.argv.slice(2);
assert.ok(['plain', 'countersigned'].includes(flow), `FLOW is plain or countersigned, not ${flow}`);
const countersigned = flow === 'countersigned';
const approverSub = process.env.APPROVER_SUB;
assert.ok(!countersigned || approverSub, 'APPROVER_SUB (bob\'s sub) is set for a countersigned run');
const redirect = 'http://127.0.0.1:9000/cb';

// Every request the library makes goes through here: it counts JWKS fetches and, when
// asked to, breaks the signature of the ID token in the next token response.
const seen = { jwks: 0 };
let tamperNextIdToken = false;
async function libraryFetch(url, options) {
  const response = await fetch(url, options);
  if (String(url) === config.serverMetadata().jwks_uri) seen.jwks += 1;
  if (!tamperNextIdToken || String(url) !== config.serverMetadata().token_endpoint) return response;
  tamperNextIdToken = false;
  const body = await response.json();
  const [header, payload, signature] = body.id_token.split('.');
  // Flip the first signature character: the decoded signature bytes change.
  const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
  body.id_token = [header, payload, flipped].join('.');
  return new Response(JSON.stringify(body), { status: response.status, headers: response.headers });
}

const metadata = { client_secret: clientSecret, id_token_signed_response_alg: alg };
const config = await client.discovery(new URL(issuer), clientId, metadata, undefined, {
  execute: [client.allowInsecureRequests],
});
config[client.customFetch] = libraryFetch;
// openid-client v6 takes ID tokens from the token endpoint on TLS trust alone unless
// told otherwise (OIDC Core §3.1.3.7 item 6); this makes it verify every one against
// the issuer's JWKS.
client.enableNonRepudiationChecks(config);

// A browser: keeps cookies, never follows redirects by itself.
function browser() {
  const jar = new Map();
  return async (target, options = {}) => {
    const headers = { ...(options.headers || {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    const response = await fetch(new URL(target, issuer), { ...options, headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair.indexOf('=');
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
}
const field = (html, name) => (html.match(new RegExp(`name="${name}" value="([^"]*)"`)) || [])[1];
const post = (fields) => ({
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(Object.entries(fields).filter(([, v]) => v !== undefined)).toString(),
});
async function signIn(go, start, username) {
  const html = await (await go(start)).text();
  const response = await go('/login', post({
    csrf_token: field(html, 'csrf_token'), request: field(html, 'request'),
    return_to: field(html, 'return_to'), username, password,
  }));
  assert.equal(response.status, 303, `sign-in of ${username}`);
  return response.headers.get('location');
}
const next = async (go, target) => {
  const response = await go(target);
  assert.equal(response.status, 303, `${target} redirects`);
  return response.headers.get('location');
};

// Alice starts a code flow, signs in and consents; returns where the server sends her.
async function startFlow(alice) {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirect, scope, state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  let location = await next(alice, url.href);
  if (location.startsWith('/login')) location = await next(alice, await signIn(alice, location, 'alice'));
  if (location.startsWith('/consent')) {
    const html = await (await alice(location)).text();
    location = (await alice('/consent', post({ csrf_token: field(html, 'csrf_token'), request: field(html, 'request'), decision: 'allow' }))).headers.get('location');
  }
  return { location, checks: { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true } };
}

// The pause: alice is parked on the waiting page, the request is pending, and jumping
// ahead to the continue link issues no code. Then bob approves on his page, and alice's
// waiting page continues to the client. Returns the approval id and the client redirect.
async function countersignature(alice, location) {
  const waiting = location.match(/^\/approvals\/([^/?#]+)\/waiting$/);
  assert.ok(waiting, `the flow pauses on the waiting page, not at ${location}`);
  const id = waiting[1];
  const page = await alice(location);
  assert.equal(page.status, 200, 'the waiting page shows');
  const html = await page.text();
  assert.match(html, /<strong id="state">pending<\/strong>/, 'the waiting page says pending');
  assert.ok(html.includes('payments:write'), 'the waiting page names the sensitive scope');
  const status = await (await alice(`/approvals/${id}/status`)).json();
  assert.equal(status.state, 'pending', 'status is pending');
  assert.equal(status.continue_url, undefined, 'no way on while pending');
  const ahead = (html.match(/id="continue" href="([^"]+)"/) || [])[1];
  assert.ok(ahead, 'the waiting page holds the (hidden) continue link');
  assert.equal(await next(alice, ahead.replaceAll('&amp;', '&')), location, 'continuing early leads back to the waiting page');

  const bob = browser();
  await signIn(bob, '/login?return_to=/approvals', 'bob');
  const approvalPage = await (await bob(`/approvals/${id}`)).text();
  const vote = await bob(`/approvals/${id}`, post({ csrf_token: field(approvalPage, 'csrf_token'), decision: 'approve' }));
  assert.equal(vote.status, 303, 'bob approves');
  assert.equal((await (await alice(`/approvals/${id}/status`)).json()).state, 'approved', 'status is approved');
  return { id, location: await next(alice, await next(alice, location)) };
}

// The approval evidence (DESIGN.md §5.1 step 7) in a verified set of claims.
function assertEvidence(claims, id, what) {
  assert.ok(claims.approval, `${what} carries the approval claim`);
  assert.equal(claims.approval.id, id, `${what} names the approval that was pending`);
  assert.deepEqual(claims.approval.approvers, [approverSub], `${what} names bob as the approver`);
  assert.ok(claims.approval.approved_at >= claims.auth_time, `${what}: approved after sign-in`);
  assert.ok(claims.approval.access_until > Date.now() / 1000, `${what}: access window open`);
}

const alice = browser();
let { location, checks } = await startFlow(alice);
let approvalId;
if (countersigned) ({ id: approvalId, location } = await countersignature(alice, location));
else assert.ok(!location.includes('/waiting'), `a plain flow does not pause: ${location}`);
assert.ok(location.startsWith(redirect), `back at the client: ${location}`);

const tokens = await client.authorizationCodeGrant(config, new URL(location), checks);
assert.ok(seen.jwks > 0, 'the library fetched the JWKS to verify the ID token');
const claims = tokens.claims();
assert.ok(claims.sub && claims.auth_time, 'ID token has sub and auth_time');
// The access token is an RFC 9068 JWT: verified here with jose against the same JWKS.
const jwks = jose.createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri));
const { payload: access } = await jose.jwtVerify(tokens.access_token, jwks, {
  issuer, audience: clientId, typ: 'at+jwt',
});
assert.equal(access.sub, claims.sub, 'access token is alice\'s');
if (countersigned) {
  assertEvidence(claims, approvalId, 'ID token');
  assertEvidence(access, approvalId, 'access token');
} else {
  assert.equal(claims.approval, undefined, 'a plain ID token carries no approval');
  assert.equal(access.approval, undefined, 'a plain access token carries no approval');
}

const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
assert.equal(info.sub, claims.sub);
const introspected = await client.tokenIntrospection(config, tokens.access_token);
assert.equal(introspected.active, true);
assert.ok(tokens.refresh_token, 'refresh token for offline_access');
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
assert.equal(refreshed.claims().sub, claims.sub);
if (countersigned) assertEvidence(refreshed.claims(), approvalId, 'refreshed ID token');
await client.tokenRevocation(config, refreshed.refresh_token);
assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false, 'revoked');

// Negative: the same library call refuses an ID token whose signature was broken in
// transit. A plain flow suffices (alice is signed in and has consented).
if (!countersigned) {
  const again = await startFlow(alice);
  assert.ok(again.location.startsWith(redirect), `second flow back at the client: ${again.location}`);
  tamperNextIdToken = true;
  await assert.rejects(
    client.authorizationCodeGrant(config, new URL(again.location), again.checks),
    (error) => /signature/i.test(`${error.message} ${error.cause?.message ?? ''}`),
    'a tampered ID token is refused',
  );
  assert.equal(tamperNextIdToken, false, 'the tampered response was the one checked');
}

const end = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token, post_logout_redirect_uri: 'http://127.0.0.1:9000/bye', state: 'bye',
});
assert.equal(await next(alice, end.href), 'http://127.0.0.1:9000/bye?state=bye');
console.log(`openid-client: ok (${flow} flow${countersigned ? ', paused until bob approved' : ', tampered ID token refused'}, ${alg} ID token verified via JWKS, scope "${scope}")`);
