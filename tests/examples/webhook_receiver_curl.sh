#!/usr/bin/env bash
# The example receiver against curl: a delivery signed per Standard Webhooks (HMAC computed here
# with the openssl CLI) gets 2xx and is printed; a forged one gets 401 and is not.
#   webhook_receiver_curl.sh <receiver executable>
set -euo pipefail
receiver=$1
secret=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
out=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT

timeout 30 "$receiver" http://127.0.0.1:0/hooks "$secret" --max 1 >"$out" &
pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$out" && break
  sleep 0.05
done
url=$(sed -n 's/^listening on //p' "$out")
[[ -n $url ]] || { echo "receiver did not start"; cat "$out"; exit 1; }

sign() {  # id timestamp body -> v1,<base64 HMAC-SHA256 of "id.timestamp.body">
  local key
  key=$(printf '%s' "${secret#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
  printf 'v1,%s' "$(printf '%s.%s.%s' "$1" "$2" "$3" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)"
}
post() {  # id signature body -> HTTP status
  curl -s -o /dev/null -w '%{http_code}' -X POST "$url" -H 'Content-Type: application/json' \
    -H "webhook-id: $1" -H "webhook-timestamp: $now" -H "webhook-signature: $2" --data-binary "$3"
}
now=$(date +%s)
forged_body='{"type":"invoice.paid","amount":1000000}'
good_body='{"type":"invoice.paid","amount":10}'
forged=$(post msg_forged "$(sign msg_forged "$now" "$good_body")" "$forged_body")
good=$(post msg_good "$(sign msg_good "$now" "$good_body")" "$good_body")
wait "$pid"

echo "forged delivery: HTTP $forged; signed delivery: HTTP $good"
cat "$out"
[[ $forged == 401 ]] || { echo "expected 401 for the forged delivery"; exit 1; }
[[ $good == 2* ]] || { echo "expected 2xx for the signed delivery"; exit 1; }
grep -q "delivery id=msg_good type=invoice.paid" "$out" || { echo "signed delivery not printed"; exit 1; }
! grep -q "msg_forged\|1000000" "$out" || { echo "forged delivery was printed"; exit 1; }
