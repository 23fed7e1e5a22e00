"""Authlib (Python) against a live countersign: discovery, code flow with PKCE and nonce,
ID token validation (signature via JWKS, iss, aud, nonce, at_hash), userinfo, refresh,
revocation, with the given client authentication method.

Usage: python3 python_authlib.py ISSUER CLIENT_ID CLIENT_SECRET METHOD PASSWORD
"""
import re
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken

issuer, client_id, secret, method, password = sys.argv[1:6]
meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
redirect = "http://127.0.0.1:9000/cb"
rp = OAuth2Session(client_id, secret, scope="openid profile email offline_access", redirect_uri=redirect,
                   code_challenge_method="S256", token_endpoint_auth_method=method)
verifier, nonce = generate_token(48), generate_token(16)
url, state = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)


def field(html, name):
    match = re.search('name="%s" value="([^"]*)"' % name, html)
    return match.group(1) if match else None


browser = requests.Session()
location = browser.get(url, allow_redirects=False, timeout=10).headers["location"]
html = browser.get(issuer + location, timeout=10).text
answer = browser.post(issuer + "/login", allow_redirects=False, timeout=10, data={
    "csrf_token": field(html, "csrf_token"), "request": field(html, "request"),
    "username": "alice", "password": password})
location = browser.get(issuer + answer.headers["location"], allow_redirects=False, timeout=10).headers["location"]
if location.startswith("/consent"):
    html = browser.get(issuer + location, timeout=10).text
    location = browser.post(issuer + "/consent", allow_redirects=False, timeout=10, data={
        "csrf_token": field(html, "csrf_token"), "request": field(html, "request"),
        "decision": "allow"}).headers["location"]
assert location.startswith(redirect) and "iss=" in location, location

token = rp.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken,
                    claims_options={"iss": {"value": issuer}, "aud": {"value": client_id}},
                    claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]})
claims.validate()
userinfo = rp.get(meta["userinfo_endpoint"], timeout=10).json()
assert userinfo["sub"] == claims["sub"], userinfo
refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
assert "id_token" in refreshed and refreshed["refresh_token"] != token["refresh_token"]
assert rp.revoke_token(meta["revocation_endpoint"], refreshed["refresh_token"]).status_code == 200
print("authlib: ok (%s)" % method)
