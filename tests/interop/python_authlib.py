"""Authlib (Python) against a live countersign: discovery, code flow with PKCE and nonce,
ID token validation (signature via JWKS, iss, aud, nonce, at_hash; a tampered signature
refused), the RFC 9068 access token verified the same way, userinfo, introspection,
refresh, and revocation proven by the token being dead afterwards (introspection
inactive, userinfo 401 invalid_token), with the given client authentication method.

FLOW is `plain` (no pause, no approval claim) or `countersigned` (payments:write: the
flow must pause on the waiting page until bob approves, and the tokens must carry the
evidence naming bob, APPROVER_SUB).

Usage: APPROVER_SUB=… python3 python_authlib.py ISSUER CLIENT_ID CLIENT_SECRET METHOD PASSWORD FLOW
"""
import os
import sys

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt
from authlib.jose.errors import BadSignatureError
from authlib.oidc.core import CodeIDToken

from countersign_pages import REDIRECT, alice_authorizes, assert_evidence, countersignature

issuer, client_id, secret, method, password, flow = sys.argv[1:7]
assert flow in ("plain", "countersigned"), flow
countersigned = flow == "countersigned"
scope = "openid profile email offline_access" + (" payments:write" if countersigned else "")
meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
rp = OAuth2Session(client_id, secret, scope=scope, redirect_uri=REDIRECT,
                   code_challenge_method="S256", token_endpoint_auth_method=method)
verifier, nonce = generate_token(48), generate_token(16)
url, state = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)

alice, location = alice_authorizes(issuer, url, password)
approval_id = None
if countersigned:
    approval_id, location = countersignature(issuer, alice, location, password)
else:
    assert "/waiting" not in location, "a plain flow does not pause: %s" % location
assert location.startswith(REDIRECT) and "iss=" in location, location

token = rp.fetch_token(meta["token_endpoint"], authorization_response=location, code_verifier=verifier)
keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
expected = {"iss": {"essential": True, "value": issuer}, "aud": {"essential": True, "value": client_id}}
claims = jwt.decode(token["id_token"], keys, claims_cls=CodeIDToken, claims_options=expected,
                    claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]})
claims.validate()
# Negative: the same call refuses the ID token with its signature broken.
head, body, signature = token["id_token"].split(".")
tampered = ".".join([head, body, ("B" if signature[0] == "A" else "A") + signature[1:]])
try:
    jwt.decode(tampered, keys, claims_cls=CodeIDToken, claims_options=expected)
    raise AssertionError("a tampered ID token was accepted")
except BadSignatureError:
    pass
access = jwt.decode(token["access_token"], keys, claims_options=expected)
access.validate()
assert access.header["typ"] == "at+jwt" and access["sub"] == claims["sub"], access.header
if countersigned:
    approver = os.environ["APPROVER_SUB"]
    assert_evidence(claims, approval_id, approver, "ID token")
    assert_evidence(access, approval_id, approver, "access token")
else:
    assert "approval" not in claims and "approval" not in access, "a plain flow carries no approval"

userinfo = rp.get(meta["userinfo_endpoint"], timeout=10).json()
assert userinfo["sub"] == claims["sub"], userinfo
refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
assert "id_token" in refreshed and refreshed["refresh_token"] != token["refresh_token"]
assert rp.revoke_token(meta["revocation_endpoint"], refreshed["refresh_token"]).status_code == 200


def introspect(value):
    answer = rp.introspect_token(meta["introspection_endpoint"], token=value)
    assert answer.status_code == 200, answer.status_code
    return answer.json()


# RFC 7009 answers 200 whether or not it revoked anything: prove the tokens are dead.
assert introspect(refreshed["refresh_token"]) == {"active": False}, "revoked refresh token"
assert introspect(refreshed["access_token"]) == {"active": False}, "its access token"
dead = requests.get(meta["userinfo_endpoint"], timeout=10,
                    headers={"Authorization": "Bearer " + refreshed["access_token"]})
assert dead.status_code == 401, dead.status_code
assert 'error="invalid_token"' in dead.headers.get("WWW-Authenticate", ""), dead.headers
print("authlib: ok (%s flow%s, %s, tampered ID token refused, revoked token dead)"
      % (flow, ", paused until bob approved" if countersigned else "", method))
