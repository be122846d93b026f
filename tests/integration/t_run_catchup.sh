#!/usr/bin/env bash
# t_run_catchup.sh - the daemon sorts new mail as it arrives (IDLE), and
# mail that arrives while it is stopped is handled after a restart, once.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "report" { fileinto "Reports"; }
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"

bg_start "$T_DIR/d1.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
make_msg "$T_DIR/r1.eml" "From: a@example.org" "Subject: weekly report 1" >/dev/null
sleep 1
start=$(now_ms)
imap_append "$u" INBOX "$T_DIR/r1.eml" >/dev/null
wait_until 10 count_is "$u" Reports 1
echo "filed while running after $(( $(now_ms) - start )) ms"
bg_stop "$pid" || fail "daemon exit status $? on SIGTERM: $(tail -5 "$T_DIR/d1.log")"

# Mail arrives while mailsift is stopped.
make_msg "$T_DIR/r2.eml" "From: a@example.org" "Subject: weekly report 2" >/dev/null
make_msg "$T_DIR/k.eml" "From: b@example.org" "Subject: hello" >/dev/null
imap_append "$u" INBOX "$T_DIR/r2.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/k.eml" >/dev/null

bg_start "$T_DIR/d2.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
wait_until 10 count_is "$u" Reports 2
sleep 1
assert_eq 1 "$(imap_count "$u" INBOX)" "INBOX after catch-up"
bg_stop "$pid" || fail "daemon exit status $?"
assert_eq 2 "$(imap_count "$u" Reports)" "nothing filed twice"
grep -q "seen" "$T_DIR/d2.log" || fail "no summary line: $(cat "$T_DIR/d2.log")"
# Each new message wakes the daemon, but the whole-folder keyword scans
# for learning run once per poll_interval (60 s by default), not per wake.
bg_start "$T_DIR/d3.log" "$MAILSIFT" run -c "$T_DIR/c.json" --log-level debug
pid=$BG_PID
sleep 1
for i in 3 4 5; do
	make_msg "$T_DIR/r$i.eml" "From: a@example.org" "Subject: weekly report $i" >/dev/null
	imap_append "$u" INBOX "$T_DIR/r$i.eml" >/dev/null
	wait_until 10 count_is "$u" Reports $i
done
bg_stop "$pid" || fail "daemon exit status $?"
scans=$(grep -c 'UID FETCH 1:\* (UID FLAGS)' "$T_DIR/d3.log")
[ "$scans" -le 2 ] || fail "$scans flag scans for 3 new messages"
echo ok
