"""pyoidc (`oic`, an OpenID-certified Python RP library) against a live countersign:
discovery, code flow with state and nonce, ID token validation (signature via JWKS, iss,
aud, nonce; a tampered signature refused by the same parsing), client_secret_basic at
the token endpoint, the RFC 9068 access token verified with the same keys, userinfo.

FLOW is `plain` (no pause, no approval claim) or `countersigned` (payments:write: the
flow must pause on the waiting page until bob approves, and the tokens must carry the
evidence naming bob, APPROVER_SUB).

Usage: APPROVER_SUB=… python3 python_pyoidc.py ISSUER CLIENT_ID CLIENT_SECRET PASSWORD FLOW
"""
import json
import os
import sys

from jwkest import BadSignature
from jwkest.jws import JWS
from oic import rndstr
from oic.oic import Client
from oic.oic.message import AccessTokenResponse, AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from countersign_pages import REDIRECT, alice_authorizes, assert_evidence, countersignature

issuer, cid, secret, password, flow = sys.argv[1:6]
assert flow in ("plain", "countersigned"), flow
countersigned = flow == "countersigned"
scope = ["openid", "profile", "email"] + (["payments:write"] if countersigned else [])
client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
client.provider_config(issuer)
client.store_registration_info(RegistrationResponse(client_id=cid, client_secret=secret, redirect_uris=[REDIRECT]))
# Keeps the raw token response (for the tampering check below); changes nothing.
token_responses = []
send = client.http_request


def recording(url, method="GET", **kwargs):
    response = send(url, method, **kwargs)
    if url == client.token_endpoint:
        token_responses.append(response.text)
    return response


client.http_request = recording
state, nonce = rndstr(), rndstr()
args = {"client_id": cid, "response_type": "code", "scope": scope, "nonce": nonce, "redirect_uri": REDIRECT, "state": state}
url = client.construct_AuthorizationRequest(request_args=args).request(client.authorization_endpoint)

alice, location = alice_authorizes(issuer, url, password)
approval_id = None
if countersigned:
    approval_id, location = countersignature(issuer, alice, location, password)
else:
    assert "/waiting" not in location, "a plain flow does not pause: %s" % location
assert location.startswith(REDIRECT), location

aresp = client.parse_response(AuthorizationResponse, info=location.split("?", 1)[1], sformat="urlencoded")
assert aresp["state"] == state
resp = client.do_access_token_request(state=state, request_args={"code": aresp["code"]}, authn_method="client_secret_basic")
id_token = resp["id_token"]
assert id_token["nonce"] == nonce and id_token["iss"] == issuer and cid in id_token["aud"], id_token.to_dict()
# Negative: pyoidc's own parsing of that token response refuses it once the ID token's
# signature is broken.
raw = json.loads(token_responses[-1])
head, body, signature = raw["id_token"].split(".")
raw["id_token"] = ".".join([head, body, ("B" if signature[0] == "A" else "A") + signature[1:]])
try:
    client.parse_response(AccessTokenResponse, json.dumps(raw), "json", state)
    raise AssertionError("a tampered ID token was accepted")
except BadSignature:
    pass
jws = client.keyjar.get_verify_key(owner=issuer)
assert jws, "pyoidc loaded the issuer's JWKS"
verified = JWS().verify_compact(resp["access_token"], jws)
assert verified["sub"] == id_token["sub"] and verified["iss"] == issuer, verified
if countersigned:
    approver = os.environ["APPROVER_SUB"]
    assert_evidence(id_token.to_dict(), approval_id, approver, "ID token")
    assert_evidence(verified, approval_id, approver, "access token")
else:
    assert "approval" not in id_token and "approval" not in verified, "a plain flow carries no approval"
info = client.do_user_info_request(state=state)
assert info["sub"] == id_token["sub"], info.to_dict()
print("pyoidc: ok (%s flow%s, client_secret_basic, ID token verified via JWKS, tampered one refused)"
      % (flow, ", paused until bob approved" if countersigned else ""))
