#!/usr/bin/env bash
# Interoperability: relying-party libraries in other languages (Node's OpenID-certified
# openid-client, Python's OpenID-certified pyoidc, and Authlib) complete real flows
# against a live countersign, unmodified. Installs them from this folder's lock files
# (npm ci, a pip venv), seeds a fresh SQLite database with the CLI, serves on a free
# loopback port, runs each flow.
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
export COUNTERSIGN_DATA_DIR="$work" COUNTERSIGN_DATABASE_URL="sqlite://$work/db.sqlite3"

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
client_id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$credentials")"
secret="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$credentials")"

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
issuer="http://127.0.0.1:$port"
"$bin" serve --bind "127.0.0.1:$port" --issuer "$issuer" 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 50); do
    curl -fsS "$issuer/readyz" >/dev/null 2>&1 && break
    sleep 0.2
done
curl -fsS "$issuer/readyz" >/dev/null || { cat "$work/serve.log" >&2; exit 1; }

node "$here/node_openid_client.mjs" "$issuer" "$client_id" "$secret" "openid profile email offline_access" "$password"
node "$here/node_openid_client.mjs" "$issuer" "$client_id" "$secret" "openid profile payments:write offline_access" "$password"
for alg in ES256 EdDSA; do
    other="$("$bin" client add --name "Interop RP $alg" --redirect-uri http://127.0.0.1:9000/cb \
        --post-logout-redirect-uri http://127.0.0.1:9000/bye --id-token-alg "$alg" \
        --scope "openid profile email offline_access" --json)"
    other_id="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])' <<<"$other")"
    other_secret="$(python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])' <<<"$other")"
    node "$here/node_openid_client.mjs" "$issuer" "$other_id" "$other_secret" "openid profile email offline_access" "$password" "$alg"
done
PYTHONWARNINGS=ignore "$here/.venv/bin/python" "$here/python_authlib.py" "$issuer" "$client_id" "$secret" client_secret_basic "$password"
PYTHONWARNINGS=ignore "$here/.venv/bin/python" "$here/python_authlib.py" "$issuer" "$client_id" "$secret" client_secret_post "$password"
"$here/.venv/bin/python" "$here/python_pyoidc.py" "$issuer" "$client_id" "$secret" "$password" 2>"$work/pyoidc.log" ||
    { cat "$work/pyoidc.log" >&2; exit 1; }
