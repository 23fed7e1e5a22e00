"""pyoidc (`oic`, an OpenID-certified Python RP library) against a live countersign:
discovery, code flow with state and nonce, ID token validation (signature via JWKS, iss,
aud, nonce), client_secret_basic at the token endpoint, userinfo.

Usage: python3 python_pyoidc.py ISSUER CLIENT_ID CLIENT_SECRET PASSWORD
"""
import re
import sys

import requests
from oic.oic import Client
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD
from oic import rndstr
issuer, cid, secret, password = sys.argv[1:5]
client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
client.provider_config(issuer)
client.store_registration_info(RegistrationResponse(client_id=cid, client_secret=secret, redirect_uris=["http://127.0.0.1:9000/cb"]))
state, nonce = rndstr(), rndstr()
args = {"client_id": cid, "response_type": "code", "scope": ["openid", "profile", "email"], "nonce": nonce, "redirect_uri": "http://127.0.0.1:9000/cb", "state": state}
url = client.construct_AuthorizationRequest(request_args=args).request(client.authorization_endpoint)
b = requests.Session()
def field(html, name):
    m = re.search('name="%s" value="([^"]*)"' % name, html); return m.group(1) if m else None
loc = b.get(url, allow_redirects=False).headers["location"]
html = b.get(issuer + loc).text
r = b.post(issuer + "/login", data={"csrf_token": field(html, "csrf_token"), "request": field(html, "request"), "username": "alice", "password": password}, allow_redirects=False)
loc = b.get(issuer + r.headers["location"], allow_redirects=False).headers["location"]
if loc.startswith("/consent"):
    html = b.get(issuer + loc).text
    loc = b.post(issuer + "/consent", data={"csrf_token": field(html, "csrf_token"), "request": field(html, "request"), "decision": "allow"}, allow_redirects=False).headers["location"]
aresp = client.parse_response(AuthorizationResponse, info=loc.split("?", 1)[1], sformat="urlencoded")
assert aresp["state"] == state
resp = client.do_access_token_request(state=state, request_args={"code": aresp["code"]}, authn_method="client_secret_basic")
assert resp["id_token"]["nonce"] == nonce
info = client.do_user_info_request(state=state)
assert info["sub"] == resp["id_token"]["sub"], info.to_dict()
print("pyoidc: ok (client_secret_basic)")
