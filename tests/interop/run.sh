#!/usr/bin/env bash
# Interoperability: relying-party libraries in other languages (Node's OpenID-certified
# openid-client, Python's OpenID-certified pyoidc, and Authlib) complete real flows
# against a live countersign, unmodified. Installs them from this folder's lock files
# (npm ci, a pip venv), seeds a fresh database with the CLI, serves on a free loopback
# port, runs each flow.
#
# Each library runs a plain login and a countersigned one (payments:write, approved by
# bob); openid-client also runs a CIBA poll-mode request with authorization_details.
# A countersigned run fails unless the flow really paused (waiting page, pending,
# no code) and the tokens carry the approval evidence naming bob. The last step proves
# that: with payments:write made not sensitive, every countersigned run must fail.
#
# Environment:
#   INTEROP_DATABASE_URL  the database to seed and serve (it must be empty, e.g. a fresh
#                         PostgreSQL database); default: a fresh SQLite file in a temp dir
#   CARGO_TARGET_DIR      honoured as usual by cargo
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

cargo build --quiet --bin countersign
bin="${CARGO_TARGET_DIR:-$root/target}/debug/countersign"

npm ci --prefix "$here" --no-audit --no-fund --loglevel=error >/dev/null
if [[ ! -x "$here/.venv/bin/python" ]]; then
    python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"

work="$(mktemp -d)"
server=""
cleanup() {
    [[ -n "$server" ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
export COUNTERSIGN_DATA_DIR="$work"
export COUNTERSIGN_DATABASE_URL="${INTEROP_DATABASE_URL:-sqlite://$work/db.sqlite3}"
echo "interop: database ${COUNTERSIGN_DATABASE_URL%%://*}://… ($([[ -n "${INTEROP_DATABASE_URL:-}" ]] && echo 'from INTEROP_DATABASE_URL' || echo 'fresh SQLite'))"

json() { python3 -c "import json,sys; v=json.load(sys.stdin); print($1)"; }

password="interop-password-1"
for user in alice bob; do
    "$bin" user add "$user" --email "$user@example.com" --password-stdin <<<"$password" >/dev/null
done
"$bin" group add approvers >/dev/null
"$bin" group add-member approvers bob >/dev/null
"$bin" scope add payments:write --description "Make payments" --sensitive --approvers approvers >/dev/null
credentials="$("$bin" client add --name "Interop RP" --redirect-uri http://127.0.0.1:9000/cb \
    --post-logout-redirect-uri http://127.0.0.1:9000/bye \
    --scope "openid profile email offline_access payments:write" --json)"
client_id="$(json 'v["client_id"]' <<<"$credentials")"
secret="$(json 'v["client_secret"]' <<<"$credentials")"
# The countersigned runs check that the tokens name bob, by his `sub`.
APPROVER_SUB="$("$bin" user list --json | json '[u["sub"] for u in v if u["username"] == "bob"][0]')"
export APPROVER_SUB

# The action type and the CIBA client of the backchannel run (seeded before serving, so
# the discovery document lists the type from the start).
cat >"$work/payment.json" <<'SCHEMA'
{"type": "object", "required": ["type", "amount", "currency", "creditor"],
 "properties": {"type": {"const": "payment"}, "amount": {"type": "number"},
                "currency": {"enum": ["EUR", "USD"]}, "creditor": {"type": "string"}},
 "additionalProperties": false}
SCHEMA
"$bin" action-type add payment --description "A payment" --schema "$work/payment.json" \
    --policy-scope payments:write >/dev/null
agent="$("$bin" client add --name "Interop agent" --scope "openid payments:write" \
    --grant-type urn:openid:params:grant-type:ciba --json)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
issuer="http://127.0.0.1:$port"
"$bin" serve --bind "127.0.0.1:$port" --issuer "$issuer" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 50); do
    curl -fsS "$issuer/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$issuer/readyz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }

node_rp() { node "$here/node_openid_client.mjs" "$issuer" "$client_id" "$secret" "$@"; }
authlib_rp() { PYTHONWARNINGS=ignore "$here/.venv/bin/python" "$here/python_authlib.py" "$issuer" "$client_id" "$secret" "$@"; }
pyoidc_rp() {
    "$here/.venv/bin/python" "$here/python_pyoidc.py" "$issuer" "$client_id" "$secret" "$@" 2>"$work/pyoidc.log" ||
        { cat "$work/pyoidc.log" >&2; return 1; }
}

node_rp "openid profile email offline_access" "$password" plain
for alg in ES256 EdDSA; do
    other="$("$bin" client add --name "Interop RP $alg" --redirect-uri http://127.0.0.1:9000/cb \
        --post-logout-redirect-uri http://127.0.0.1:9000/bye --id-token-alg "$alg" \
        --scope "openid profile email offline_access" --json)"
    other_id="$(json 'v["client_id"]' <<<"$other")"
    other_secret="$(json 'v["client_secret"]' <<<"$other")"
    node "$here/node_openid_client.mjs" "$issuer" "$other_id" "$other_secret" \
        "openid profile email offline_access" "$password" plain "$alg"
done
authlib_rp client_secret_basic "$password" plain
pyoidc_rp "$password" plain
node_rp "openid profile payments:write offline_access" "$password" countersigned
authlib_rp client_secret_post "$password" countersigned
pyoidc_rp "$password" countersigned

# The server's own record agrees: three approvals, each of alice's requests approved by
# bob alone, and each redeemed once (its code was exchanged).
"$bin" approval list --json | python3 -c '
import json, os, sys
approvals = json.load(sys.stdin)
assert len(approvals) == 3, "%d approvals, expected one per countersigned run" % len(approvals)
for a in approvals:
    assert a["requester"] == "alice" and a["state"] in ("approved", "redeemed"), a
    assert [(v["approver_sub"], v["decision"]) for v in a["votes"]] == [(os.environ["APPROVER_SUB"], "approve")], a
print("interop: the approval records name bob on each of the 3 countersigned runs")'

# CIBA: openid-client, unmodified, asks for a 4,500 EUR payment for alice on the back
# channel and polls; bob approves on his page; the tokens carry exactly that payment.
node "$here/node_ciba.mjs" "$issuer" "$(json 'v["client_id"]' <<<"$agent")" \
    "$(json 'v["client_secret"]' <<<"$agent")" "$password"

# The checks cannot pass by accident: with payments:write needing no approval, each
# countersigned run must fail, and fail on the missing pause.
"$bin" scope update payments:write --not-sensitive >/dev/null
unpaused() {
    if "$@" >"$work/unpaused.log" 2>&1; then
        echo "error: a countersigned run passed although nothing needed approval: $1" >&2
        exit 1
    fi
    grep -q 'pauses on the waiting page' "$work/unpaused.log" || {
        echo "error: $1 failed, but not on the missing pause:" >&2
        cat "$work/unpaused.log" >&2
        exit 1
    }
}
unpaused node_rp "openid profile payments:write offline_access" "$password" countersigned
unpaused authlib_rp client_secret_post "$password" countersigned
unpaused pyoidc_rp "$password" countersigned
echo "interop: with payments:write not sensitive, each countersigned run fails on the missing pause"
