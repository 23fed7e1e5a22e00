// panva/openid-client (OpenID-certified, CIBA-capable) as an unmodified CIBA client of
// a live countersign: discovery, a backchannel request for alice with RFC 9396
// authorization_details and a binding message, the library's own polling
// (authorization_pending, the interval), bob approving on his page, and the tokens:
// the ID token verified against the JWKS, the access token carrying exactly the
// approved payment and the approval naming bob.
//
// Usage: APPROVER_SUB=… node node_ciba.mjs ISSUER CLIENT_ID CLIENT_SECRET PASSWORD
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import * as jose from 'jose';

const [issuer, clientId, clientSecret, password] = process.argv.slice(2);
const approverSub = process.env.APPROVER_SUB;
assert.ok(approverSub, 'APPROVER_SUB (bob\'s sub) is set');

const config = await client.discovery(new URL(issuer), clientId, clientSecret, undefined, {
  execute: [client.allowInsecureRequests],
});
client.enableNonRepudiationChecks(config);
const metadata = config.serverMetadata();
assert.ok(metadata.backchannel_token_delivery_modes_supported.includes('poll'));
assert.ok(metadata.authorization_details_types_supported.includes('payment'));

const payment = [{ type: 'payment', amount: 4500, currency: 'EUR', creditor: 'ACME GmbH' }];
const started = await client.initiateBackchannelAuthentication(config, {
  login_hint: 'alice',
  scope: 'openid',
  authorization_details: JSON.stringify(payment),
  binding_message: 'Pay ACME 4500 EUR - W4SP',
});
assert.equal(started.interval, 5);

// bob approves on his page while the library polls.
async function bobApproves() {
  const jar = new Map();
  const go = async (target, options = {}) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await fetch(new URL(target, issuer), {
      ...options, headers: { ...(options.headers || {}), cookie }, redirect: 'manual',
    });
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';');
      jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return response;
  };
  const form = (fields) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const field = (html, name) => html.match(new RegExp(`name="${name}" value="([^"]*)"`))[1];
  const login = await (await go('/login')).text();
  const signedIn = await go('/login', form({ csrf_token: field(login, 'csrf_token'), username: 'bob', password }));
  assert.equal(signedIn.status, 303, 'bob signs in');
  const inbox = await (await go('/approvals')).text();
  const id = inbox.match(/href="\/approvals\/([A-Za-z0-9_-]+)"/)[1];
  const page = await (await go(`/approvals/${id}`)).text();
  for (const shown of ['4500', 'ACME GmbH', 'EUR', 'Pay ACME 4500 EUR - W4SP']) {
    assert.ok(page.includes(shown), `bob's page shows ${shown}`);
  }
  const voted = await go(`/approvals/${id}`, form({ csrf_token: field(page, 'csrf_token'), decision: 'approve' }));
  assert.equal(voted.status, 303, 'bob approves');
}

// The first poll must be pending: nobody has decided yet.
const early = await fetch(metadata.token_endpoint, {
  method: 'POST',
  headers: {
    authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  },
  body: new URLSearchParams({ grant_type: 'urn:openid:params:grant-type:ciba', auth_req_id: started.auth_req_id }),
});
assert.equal((await early.json()).error, 'authorization_pending', 'pending before bob decides');

const [tokens] = await Promise.all([
  client.pollBackchannelAuthenticationGrant(config, started),
  bobApproves(),
]);
assert.deepEqual(tokens.authorization_details, payment, 'exactly the approved payment');
const claims = tokens.claims();
const access = jose.decodeJwt(tokens.access_token);
assert.equal(access.sub, claims.sub, 'the access token is for alice');
assert.deepEqual(access.authorization_details, payment);
assert.deepEqual(access.approval.approvers, [approverSub], 'bob approved');
assert.ok(access.approval.details_digest, 'bound to the details digest');
console.log('interop: openid-client (CIBA poll) got the 4500 EUR payment approved by bob');
