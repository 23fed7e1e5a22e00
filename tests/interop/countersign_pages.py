"""The people's side of the Python interop runs: alice signing in and consenting, the pause
on the waiting page, bob approving on his page, and the approval evidence in tokens.
The relying-party libraries (Authlib, pyoidc) never see any of this; they get the code
at the redirect URI as with any provider.

A countersigned run must observe the pause (waiting page, pending, no code when jumping
ahead) or fail: see `countersignature`.
"""
import re
import time

import requests

REDIRECT = "http://127.0.0.1:9000/cb"


def field(html, name):
    match = re.search('name="%s" value="([^"]*)"' % name, html)
    return match.group(1) if match else None


def next_hop(browser, issuer, target):
    """GETs a server-relative or absolute target and returns its 303 Location."""
    url = target if target.startswith("http") else issuer + target
    response = browser.get(url, allow_redirects=False, timeout=10)
    assert response.status_code == 303, (target, response.status_code)
    return response.headers["location"]


def sign_in(browser, issuer, start, username, password):
    html = browser.get(issuer + start, timeout=10).text
    answer = browser.post(issuer + "/login", allow_redirects=False, timeout=10, data={
        "csrf_token": field(html, "csrf_token"), "request": field(html, "request"),
        "return_to": field(html, "return_to"), "username": username, "password": password})
    assert answer.status_code == 303, "sign-in of %s: %s" % (username, answer.status_code)
    return answer.headers["location"]


def alice_authorizes(issuer, url, password):
    """Alice follows the RP's authorization URL, signs in and consents. Returns her
    browser and where the server sent her next (the client, or the waiting page)."""
    browser = requests.Session()
    location = next_hop(browser, issuer, url)
    if location.startswith("/login"):
        location = next_hop(browser, issuer, sign_in(browser, issuer, location, "alice", password))
    if location.startswith("/consent"):
        html = browser.get(issuer + location, timeout=10).text
        location = browser.post(issuer + "/consent", allow_redirects=False, timeout=10, data={
            "csrf_token": field(html, "csrf_token"), "request": field(html, "request"),
            "decision": "allow"}).headers["location"]
    return browser, location


def countersignature(issuer, alice, location, password):
    """The pause, then bob's approval. Fails unless alice is parked on the waiting page
    with the request pending and no code to be had. Returns (approval id, redirect to
    the client)."""
    waiting = re.fullmatch(r"/approvals/([^/?#]+)/waiting", location)
    assert waiting, "the flow pauses on the waiting page, not at %s" % location
    approval_id = waiting.group(1)
    page = alice.get(issuer + location, timeout=10)
    assert page.status_code == 200, page.status_code
    assert '<strong id="state">pending</strong>' in page.text, "the waiting page says pending"
    assert "payments:write" in page.text, "the waiting page names the sensitive scope"
    status = alice.get(issuer + "/approvals/%s/status" % approval_id, timeout=10).json()
    assert status["state"] == "pending" and "continue_url" not in status, status
    ahead = re.search(r'id="continue" href="([^"]+)"', page.text)
    assert ahead, "the waiting page holds the (hidden) continue link"
    assert next_hop(alice, issuer, ahead.group(1).replace("&amp;", "&")) == location, \
        "continuing early leads back to the waiting page"

    bob = requests.Session()
    sign_in(bob, issuer, "/login?return_to=/approvals", "bob", password)
    html = bob.get(issuer + "/approvals/" + approval_id, timeout=10).text
    vote = bob.post(issuer + "/approvals/" + approval_id, allow_redirects=False, timeout=10,
                    data={"csrf_token": field(html, "csrf_token"), "decision": "approve"})
    assert vote.status_code == 303, "bob approves: %s" % vote.status_code
    status = alice.get(issuer + "/approvals/%s/status" % approval_id, timeout=10).json()
    assert status["state"] == "approved", status
    return approval_id, next_hop(alice, issuer, next_hop(alice, issuer, location))


def assert_evidence(claims, approval_id, approver_sub, what):
    """The approval evidence (DESIGN.md §5.1 step 7) in a verified set of claims."""
    approval = claims.get("approval")
    assert approval, "%s carries the approval claim" % what
    assert approval["id"] == approval_id, "%s names the approval that was pending" % what
    assert approval["approvers"] == [approver_sub], "%s names bob as the approver" % what
    assert approval["approved_at"] >= claims["auth_time"], "%s: approved after sign-in" % what
    assert approval["access_until"] > time.time(), "%s: access window open" % what
