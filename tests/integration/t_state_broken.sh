#!/usr/bin/env bash
# t_state_broken.sh - a ledger that breaks under the running daemon (here a
# table dropped by hand) stops it with exit 1 and an error naming the
# ledger and what went wrong, not the mail server's last (old or empty)
# error.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
write_config "$T_DIR/c.json" poll_interval=1
make_msg "$T_DIR/m1.eml" "From: a@example.org" "Subject: one" >/dev/null
imap_append "$u" INBOX "$T_DIR/m1.eml" >/dev/null
bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json"
pid=$BG_PID
wait_until 20 grep -q '"state":"idle"' "$state/status.json"
ledger_sql "$state" "DROP TABLE folders"
make_msg "$T_DIR/m2.eml" "From: a@example.org" "Subject: two" >/dev/null
imap_append "$u" INBOX "$T_DIR/m2.eml" >/dev/null
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 30 gone
rc=0; wait "$pid" || rc=$?
assert_eq 1 "$rc" "exit status with a broken ledger"
last=$(grep '^<3>' "$T_DIR/d.log" | tail -1)
case "$last" in
*"$state/ledger.db"*"no such table: folders"*) ;;
*) fail "last error does not name the ledger and the cause: $(cat "$T_DIR/d.log")" ;;
esac
echo ok
