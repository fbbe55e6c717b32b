#!/usr/bin/env bash
# Proves the running stack's Asterisk and test phones work, by placing real calls with call
# files (as the module does): 2001 records a played prompt (non-silent WAV), 2002 rings out
# twice (MaxRetries=1), 2003 is busy, 2004 presses digits that a Read() receives, 2005N
# answers and speaks, apicall-test-dest marks the CDR; every call leaves CDR rows in
# asteriskcdrdb.cdr. About 40 s. Run after `make up`:  tests/stack/selftest.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || die "selftest.sh must run as root"
ast_rx 'core show version' >/dev/null 2>&1 || die "Asterisk is not running: make up"

PASS=0; FAIL=0
ok()   { PASS=$((PASS + 1)); say "ok   - $*"; }
fail() { FAIL=$((FAIL + 1)); say "FAIL - $*"; }
sql()  { db_root -N -B "$CDR_DB" -e "$1"; }

# Every server of the stack listens on loopback only (issue 2: "every listener on 127.0.0.1").
# The stack's processes are those started with a path under $STACK (Asterisk -C, Apache -f and
# its workers, mariadbd --datadir, speechd from its venv); each of their TCP and UDP listening
# sockets must be on 127.0.0.1 or ::1. Asterisk, Apache and MariaDB must be seen listening, so
# a broken process match cannot make the check pass by looking at nothing.
stack_pids=" "
for d in /proc/[0-9]*; do
  tr '\0' ' ' < "$d/cmdline" 2>/dev/null | grep -qF "$STACK/" && stack_pids+="${d#/proc/} "
done
bad=(); seen=" "
while read -r netid _ _ _ local _ users; do
  owner=""
  for p in $(grep -o 'pid=[0-9]*' <<<"$users" | cut -d= -f2); do
    [[ $stack_pids == *" $p "* ]] && owner=$(grep -o '(("[^"]*"' <<<"$users" | head -1 | tr -d '("') && break
  done
  [ -n "$owner" ] || continue
  [[ $seen == *" $owner "* ]] || seen+="$owner "
  case "$local" in
    127.0.0.1:*|'[::1]:'*) ;;
    *) bad+=("$owner $netid $local") ;;
  esac
done < <(ss -Htlnup)
if [ ${#bad[@]} -gt 0 ]; then
  fail "the stack listens beyond loopback: ${bad[*]}"
elif [[ $seen != *" asterisk "* || $seen != *" apache2 "* || $seen != *" mariadbd "* ]]; then
  fail "listeners of asterisk, apache2 and mariadbd not all found among the stack's processes (seen:$seen)"
else
  ok "every listening socket of the stack is on 127.0.0.1/::1 (seen:$seen)"
fi

# place NAME CHANNEL CONTEXT EXTEN [MAXRETRIES RETRYTIME WAITTIME]: writes a call file
# atomically (tmp + rename) with Archive: yes; prints the call id. Account = "st" + 8 hex
# chars marks every CDR row of the call (Local channels pass the account code on).
place() {
  local name=$1 chan=$2 ctx=$3 ext=$4 retries=${5:-0} retry=${6:-5} wait=${7:-20} id tmp
  id=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  tmp="$AST_SPOOL/tmp/$id.call"
  cat > "$tmp" <<CALL
Channel: $chan
CallerID: "Stack selftest" <999>
MaxRetries: $retries
RetryTime: $retry
WaitTime: $wait
Account: st${id:0:8}
Context: $ctx
Extension: $ext
Priority: 1
Archive: yes
Setvar: __APICALL_ID=$id
CALL
  chown "$AST_USER:$AST_USER" "$tmp"
  mv "$tmp" "$AST_SPOOL/outgoing/$id.call"
  echo "$id"
}
# finish ID TIMEOUT: waits until pbx_spool archived the call file; prints its Status.
finish() {
  local id=$1 secs=$2 f="$AST_SPOOL/outgoing_done/$1.call"
  for _ in $(seq 1 $((secs * 4))); do [ -f "$f" ] && break; sleep 0.25; done
  [ -f "$f" ] || { echo "timeout"; return; }
  sleep 1   # the CDR is posted as the channels go away
  sed -n 's/^Status: //p' "$f" | tail -1
}
# peak FILE: the WAV's maximum amplitude (0..1) as sox measures it.
peak() { sox "$1" -n stat 2>&1 | awk '/Maximum amplitude/ {print $3}'; }

t0=$(now)
LOG_FROM=$(($(wc -l < "$AST_LOG/full") + 1))
newlog() { tail -n "+$LOG_FROM" "$AST_LOG/full"; }   # the full log since this run started
say "selftest: placing calls (2001, 2002 x2, 2003, 2004, 2005, apicall-test-dest)"
id1=$(place 2001 Local/2001@from-internal stack-selftest s)
id2=$(place 2002 Local/2002@from-internal stack-selftest s 1 2 4)
id3=$(place 2003 Local/2003@from-internal stack-selftest s)
id4=$(place 2004 Local/200442@from-internal stack-selftest dtmf)
id5=$(place 2005 Local/20053@from-internal stack-selftest s)
id6=$(place dest Local/2001@from-internal apicall-test-dest s)

# 2001: hears hello-world, 5 s of silence, hangs up; the recording holds the prompt.
st=$(finish "$id1" 40)
[ "$st" = Completed ] && ok "2001 call completed" || fail "2001 call status: $st"
for _ in $(seq 1 20); do [ "$(sql "SELECT COUNT(*) FROM cdr WHERE accountcode='st${id1:0:8}'")" -ge 2 ] && break; sleep 0.5; done
wav="$STACK/phones/2001-$id1.wav"
if [ -f "$wav" ]; then
  p=$(peak "$wav"); len=$(soxi -D "$wav" 2>/dev/null || echo 0)
  awk -v p="$p" 'BEGIN { exit !(p > 0.1) }' && ok "2001 recording $wav is not silent (peak $p)" \
    || fail "2001 recording is silent (peak $p)"
else
  fail "2001 recording $wav missing"
fi
n=$(sql "SELECT COUNT(*) FROM cdr WHERE accountcode='st${id1:0:8}' AND disposition='ANSWERED'")
[ "$n" -ge 2 ] && ok "2001 CDR rows in $CDR_DB.cdr ($n answered)" || fail "2001 CDR rows: $n"
# hello-world (1.4 s) + the 5 s of silence after which 2001 hangs up by itself
# (the caller would stay 15 s more)
d=$(sql "SELECT MAX(billsec) FROM cdr WHERE accountcode='st${id1:0:8}'")
[ "$d" -ge 5 ] && [ "$d" -le 9 ] && ok "2001 hung up after 5 s of silence (call lasted ${d}s)" \
  || fail "2001 call lasted ${d}s (want about 6)"

# 2002: rings out after WaitTime, retried once -> two attempts, two NO ANSWER rows.
st=$(finish "$id2" 40)
[ "$st" = Expired ] && ok "2002 call expired (never answered)" || fail "2002 call status: $st"
# (each attempt leaves a row for both halves of the Local channel, sharing a linkedid)
n=$(sql "SELECT COUNT(DISTINCT linkedid) FROM cdr WHERE accountcode='st${id2:0:8}' AND dst='2002' AND disposition='NO ANSWER'")
[ "$n" = 2 ] && ok "2002 two attempts in CDR (NO ANSWER)" || fail "2002 NO ANSWER attempts: $n (want 2)"
n=$(newlog | grep -c "Attempting call on Local/2002@from-internal for s@stack-selftest:1 (Retry [12])" || true)
[ "$n" -ge 2 ] && ok "2002 attempts visible in the full log" || fail "2002 attempts in log: $n"

# 2003: busy.
st=$(finish "$id3" 20)
[ "$st" = Expired ] || [ "$st" = Failed ] && ok "2003 call not completed ($st)" || fail "2003 call status: $st"
n=$(sql "SELECT COUNT(*) FROM cdr WHERE accountcode='st${id3:0:8}' AND dst='2003' AND disposition='BUSY'")
[ "$n" -ge 1 ] && ok "2003 BUSY CDR row" || fail "2003 BUSY rows: $n"

# 2004: waits for the prompt and the silence after it, sends 42#; Read() gets 42.
st=$(finish "$id4" 40)
[ "$st" = Completed ] && ok "2004 call completed" || fail "2004 call status: $st"
u=$(sql "SELECT userfield FROM cdr WHERE accountcode='st${id4:0:8}' AND userfield<>'' LIMIT 1")
[ "$u" = "digits:42" ] && ok "2004 pressed 42# after the prompt (CDR userfield $u)" || fail "2004 digits: '$u'"
[ -f "$STACK/phones/2004-$id4.wav" ] && ok "2004 recording present" || fail "2004 recording missing"

# 2005N: answers, waits, speaks phrase N (stub: digits/N).
st=$(finish "$id5" 40)
[ "$st" = Completed ] && ok "2005 call completed" || fail "2005 call status: $st"
newlog | grep "test phone 2005 says phrase 3" >/dev/null && ok "2005 spoke phrase 3" || fail "2005 did not speak"

# apicall-test-dest marks the CDR userfield with the call id.
st=$(finish "$id6" 20)
n=$(sql "SELECT COUNT(*) FROM cdr WHERE userfield='dest:$id6'")
[ "$n" -ge 1 ] && ok "apicall-test-dest set CDR userfield dest:<id>" || fail "apicall-test-dest rows: $n (status $st)"

say "selftest: $PASS passed, $FAIL failed in $(elapsed "$t0")"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
