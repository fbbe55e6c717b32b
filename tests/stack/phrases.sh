#!/usr/bin/env bash
# Synthesizes the answers of test phone 2005N (tests/stack/phrases.txt) into
# .stack/phones/phrases/phrase-N.wav (8 kHz 16-bit mono). Skips phrases already made from the
# same text. flite + sox, both from Debian.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
out="$STACK/phones/phrases"
mkdir -p "$out"
n=0; made=0
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; esac
  n=$((n + 1))
  wav="$out/phrase-$n.wav"
  if [ -f "$wav" ] && [ "$(cat "$out/phrase-$n.txt" 2>/dev/null)" = "$line" ]; then continue; fi
  tmp=$(mktemp --suffix=.wav)
  flite -voice kal -t "$line" -o "$tmp"
  # 0.2 s of lead-in, as a person takes a breath before answering.
  sox "$tmp" -r 8000 -c 1 -b 16 -e signed-integer "$wav" pad 0.2 0
  rm -f "$tmp"
  printf '%s' "$line" > "$out/phrase-$n.txt"
  made=$((made + 1))
done < "$REPO/tests/stack/phrases.txt"
chown -R "$AST_USER:$AST_USER" "$out"
say "phrases: $n in $out ($made synthesized now)"
