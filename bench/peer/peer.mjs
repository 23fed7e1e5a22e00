// The peer of issue 21: panva's node-oidc-provider (OpenID Certified), configured like
// countersign so that bench/run.sh can drive both with the same scenarios:
// - one confidential client, client_secret_basic, PKCE required (S256), RS256 ID tokens;
// - client_credentials and introspection enabled; machine tokens are RS256 JWT access
//   tokens through a resource indicator (urn:bench:api, the default for that grant), or
//   opaque ones for urn:bench:opaque (the peer only introspects tokens it stores);
// - users u0…u{PEER_USERS-1} with argon2id password hashes at countersign's cost
//   (m=19456 KiB, t=2, p=1: the argon2 crate's defaults, src/crypto/passwords.rs);
// - ES256 machine tokens for urn:bench:es256 (the client_credentials_es256 scenario,
//   countersign's client registered with --access-token-alg ES256);
// - a login form and a consent form (the bench reads the first POST form of a page).
// In-memory store (the provider's default adapter). Loopback only: PORT on 127.0.0.1.
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';

import Provider, { errors } from 'oidc-provider';
import { Algorithm, hash, verify } from '@node-rs/argon2';

const port = Number(process.env.PORT || 3000);
const issuer = `http://127.0.0.1:${port}`;
const password = process.env.PEER_PASSWORD || 'bench password 1234';
const userCount = Number(process.env.PEER_USERS || 8);
const ARGON2 = { algorithm: Algorithm.Argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 };

const users = new Map();
for (let i = 0; i < userCount; i += 1) {
  users.set(`u${i}`, await hash(password, ARGON2));
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'rs256', alg: 'RS256', use: 'sig' };
const { privateKey: ecKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ecJwk = { ...ecKey.export({ format: 'jwk' }), kid: 'es256', alg: 'ES256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'bench',
    client_secret: 'bench-client-secret-0123456789abcdef',
    redirect_uris: ['http://rp.example/callback'],
    grant_types: ['authorization_code', 'client_credentials'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    scope: 'openid profile email bench:api',
  }],
  jwks: { keys: [jwk, ecJwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'profile', 'email', 'bench:api'],
  claims: { openid: ['sub'], profile: ['name'], email: ['email', 'email_verified'] },
  cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
  findAccount: (ctx, id) => (users.has(id) ? {
    accountId: id,
    claims: () => ({ sub: id, name: id, email: `${id}@bench.invalid`, email_verified: true }),
  } : undefined),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: (ctx) => (ctx.oidc.params?.grant_type === 'client_credentials' ? 'urn:bench:api' : undefined),
      useGrantedResource: () => false,
      getResourceServerInfo: (ctx, resource) => {
        if (resource === 'urn:bench:api') {
          return { scope: 'bench:api', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
        }
        if (resource === 'urn:bench:es256') {
          return { scope: 'bench:api', accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } };
        }
        if (resource === 'urn:bench:opaque') {
          return { scope: 'bench:api', accessTokenFormat: 'opaque' };
        }
        throw new errors.InvalidTarget();
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.proxy = false;

const page = (res, body) => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><html><body>${body}</body></html>`);
};

const formBody = (req) => new Promise((resolve, reject) => {
  let data = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { data += chunk; });
  req.on('end', () => resolve(new URLSearchParams(data)));
  req.on('error', reject);
});

// GET /interaction/:uid (login or consent form), POST …/login, POST …/confirm.
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { uid, prompt, params, session } = details;
  if (req.method === 'GET') {
    if (prompt.name === 'login') {
      return page(res, `<form method="post" action="/interaction/${uid}/login">
<input type="hidden" name="uid" value="${uid}">
<input id="username" name="username" required><input id="password" name="password" type="password" required>
<button type="submit">Sign in</button></form>`);
    }
    return page(res, `<p>Allow ${params.client_id} ${params.scope}?</p><form method="post" action="/interaction/${uid}/confirm">
<input type="hidden" name="uid" value="${uid}">
<button type="submit" name="decision" value="allow">Allow</button></form>`);
  }
  const form = await formBody(req);
  if (req.url.endsWith('/login')) {
    const username = form.get('username') || '';
    const stored = users.get(username);
    const ok = stored !== undefined && await verify(stored, form.get('password') || '');
    if (!ok) {
      res.writeHead(401, { 'content-type': 'text/plain' });
      return res.end('invalid username or password');
    }
    return provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
  }
  const missing = prompt.details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  const consent = details.grantId ? {} : { grantId };
  return provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => {
  process.stdout.write(`peer listening on ${issuer}\n`);
});
