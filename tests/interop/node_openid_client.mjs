// panva/openid-client (an OpenID-certified relying-party library) against a live
// countersign: discovery, code flow with PKCE + state + nonce (RFC 9207 `iss` checked by
// the library), userinfo, introspection, refresh, revocation, RP-initiated logout; with
// a sensitive scope, the countersignature by an approver in between.
// Usage: node node_openid_client.mjs ISSUER CLIENT_ID CLIENT_SECRET "SCOPE" PASSWORD [ID_TOKEN_ALG]
import assert from 'node:assert/strict';
import * as client from 'openid-client';

const [issuer, clientId, clientSecret, scope, password, alg = 'RS256'] = process.argv.slice(2);
const redirect = 'http://127.0.0.1:9000/cb';
const metadata = { client_secret: clientSecret, id_token_signed_response_alg: alg };
const config = await client.discovery(new URL(issuer), clientId, metadata, undefined, {
  execute: [client.allowInsecureRequests],
});
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirect, scope, state, nonce,
  code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
});

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
const next = async (go, target) => (await go(target)).headers.get('location');

const alice = browser();
let location = await signIn(alice, await next(alice, url.href), 'alice');
location = await next(alice, location);
if (location.startsWith('/consent')) {
  const html = await (await alice(location)).text();
  location = (await alice('/consent', post({ csrf_token: field(html, 'csrf_token'), request: field(html, 'request'), decision: 'allow' }))).headers.get('location');
}
const sensitive = location.includes('/waiting');
if (sensitive) {
  const id = location.split('/')[2];
  const bob = browser();
  await signIn(bob, '/login?return_to=/approvals', 'bob');
  const page = await (await bob(`/approvals/${id}`)).text();
  const vote = await bob(`/approvals/${id}`, post({ csrf_token: field(page, 'csrf_token'), decision: 'approve' }));
  assert.equal(vote.status, 303, 'bob approves');
  location = await next(alice, await next(alice, location));
}
assert.ok(location.startsWith(redirect), `back at the client: ${location}`);

const tokens = await client.authorizationCodeGrant(config, new URL(location), {
  pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
assert.ok(claims.sub && claims.auth_time, 'ID token has sub and auth_time');
if (sensitive) {
  assert.equal(claims.approval.approvers.length, 1, 'ID token names the approver');
}
const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
assert.equal(info.sub, claims.sub);
const introspected = await client.tokenIntrospection(config, tokens.access_token);
assert.equal(introspected.active, true);
assert.ok(tokens.refresh_token, 'refresh token for offline_access');
const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
assert.equal(refreshed.claims().sub, claims.sub);
await client.tokenRevocation(config, refreshed.refresh_token);
assert.equal((await client.tokenIntrospection(config, refreshed.access_token)).active, false, 'revoked');
const end = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token, post_logout_redirect_uri: 'http://127.0.0.1:9000/bye', state: 'bye',
});
assert.equal(await next(alice, end.href), 'http://127.0.0.1:9000/bye?state=bye');
console.log(`openid-client: ok (${sensitive ? 'countersigned' : 'plain'} flow, ${alg} ID token, scope "${scope}")`);
