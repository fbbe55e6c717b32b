#!/usr/bin/env bash
# The demo (make demo, after make up): POSTs a call to test phone 2001 with a text message
# to $APICALL_URL/index.php, then follows the call in Asterisk's full log until it ends and
# shows what the phone recorded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ -f "$STACK/env" ] || die "no $STACK/env: run 'make up' first"
set -a; . "$STACK/env"; set +a
[ -n "${APICALL_TOKEN:-}" ] || die "no APICALL_TOKEN in $STACK/env (module not installed?)"

TOCALL=${DEMO_TOCALL:-2001}
MESSAGE=${DEMO_MESSAGE:-Hello from apicall. This call was placed through the API, and the text was spoken by espeak. Goodbye.}
LOG="$AST_LOG/full"
start_line=$(($(wc -l < "$LOG") + 1))

body=$(printf '{"tocall":"%s","message":"%s","language":"en","callerid":"999"}' "$TOCALL" "$MESSAGE")
say "demo: POST $APICALL_URL/index.php  $body"
resp=$(curl -sS --max-time 30 -X POST -H 'Content-Type: application/json' \
  -H "token: $APICALL_TOKEN" --data "$body" -w '\n%{http_code}' "$APICALL_URL/index.php")
code=${resp##*$'\n'}; json=${resp%$'\n'*}; json=${json%$'\n'}
say "demo: HTTP $code $json"
[ "$code" = 200 ] || die "the API refused the call"
id=$(printf '%s' "$json" | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
[ -n "$id" ] || die "no call id in the answer"

# Follow the call: find its Local channel by the call id, then print its dialplan steps.
say "demo: following call $id in $LOG"
chan=""; seen=0; deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  total=$(wc -l < "$LOG")
  if [ "$total" -ge "$start_line" ]; then
    chunk=$(sed -n "${start_line},${total}p" "$LOG"); start_line=$((total + 1))
    if [ -z "$chan" ]; then
      chan=$(printf '%s\n' "$chunk" | grep -F "$id" | grep -o "Local/$TOCALL@[a-z-]*-[0-9a-f]*" | head -1 || true)
      [ -n "$chan" ] && say "demo: channel $chan;1 (caller side) / $chan;2 (phone $TOCALL)"
    fi
    if [ -n "$chan" ]; then
      printf '%s\n' "$chunk" | grep -F -e "$chan" -e "Local/$TOCALL@" | grep -E 'Executing|Playing|answered|Call completed|failed|expired|MixMonitor|Spawn' \
        | sed -E 's/^\[[^]]*\] [A-Z]+\[[0-9]+\](\[[^]]*\])? //; s/ in new stack$//' | sed 's/^/    /' || true
    fi
  fi
  if [ -n "$chan" ]; then
    chans=$("$AST_BIN" -C "$AST_CONF" -rx 'core show channels concise' || true)
    if [[ $chans == *"$chan"* ]]; then seen=1
    elif [ $seen = 1 ] || grep -qF "$chan" "$LOG"; then sleep 1; break; fi
  fi
  sleep 0.5
done
[ -n "$chan" ] || die "the call never showed up in the log (is the spool read? see $LOG)"
wav="$STACK/phones/$TOCALL-$id.wav"
if [ -f "$wav" ]; then
  say "demo: phone $TOCALL recorded $(soxi -D "$wav")s: $wav"
else
  say "demo: no recording from $TOCALL ($wav)"
fi
row=$(db_root -N -B "$CDR_DB" -e "SELECT CONCAT(disposition, ', ', billsec, ' s billed') FROM cdr WHERE channel = '$chan;2' ORDER BY calldate DESC LIMIT 1" || true)
say "demo: CDR of the phone's leg ($CDR_DB.cdr): ${row:-none}"
say "demo: done"
