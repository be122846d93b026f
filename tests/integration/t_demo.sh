#!/usr/bin/env bash
# t_demo.sh - the newcomer's first command keeps working: `make demo`
# sorts the sample mailbox as its text says (the sample spam reaches the
# sample script's 90% threshold, the list mail is filed, ham stays).
. "$(dirname "$0")/lib.sh"

MAILSIFT=$MAILSIFT "$LIB_DIR/../demo/demo" > "$T_DIR/demo.out" 2>&1 \
	|| fail "the demo failed: $(tail -20 "$T_DIR/demo.out")"
for want in "INBOX (4)" "Junk (6)" "Lists (1)" "All 11 messages accounted for"; do
	grep -qF "$want" "$T_DIR/demo.out" \
		|| fail "demo output lacks '$want': $(cat "$T_DIR/demo.out")"
done
echo ok
