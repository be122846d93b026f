#!/usr/bin/env bash
# t_run_server_restart.sh - the server restarts while the daemon is in
# IDLE, and once while it is kicked: the daemon reconnects by itself and
# sorts what arrived meanwhile, exactly once.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "ticket" { fileinto "Tickets"; }
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" timeout=10

bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
make_msg "$T_DIR/t1.eml" "From: a@example.org" "Subject: ticket 1" >/dev/null
sleep 1
imap_append "$u" INBOX "$T_DIR/t1.eml" >/dev/null
wait_until 10 count_is "$u" Tickets 1

dovecot_down
make_msg "$T_DIR/t2.eml" "From: a@example.org" "Subject: ticket 2" >/dev/null
sleep 2		# the daemon notices and starts backing off
dovecot_up
imap_append "$u" INBOX "$T_DIR/t2.eml" >/dev/null
wait_until 30 count_is "$u" Tickets 2
kill -0 "$pid" || fail "daemon died: $(tail -20 "$T_DIR/d.log")"

imap_kick "$u"
make_msg "$T_DIR/t3.eml" "From: a@example.org" "Subject: ticket 3" >/dev/null
imap_append "$u" INBOX "$T_DIR/t3.eml" >/dev/null
wait_until 30 count_is "$u" Tickets 3
assert_eq 0 "$(imap_count "$u" INBOX)" "INBOX"
bg_stop "$pid" || fail "daemon exit status $?"
grep -qi "retrying" "$T_DIR/d.log" || fail "no reconnect logged: $(cat "$T_DIR/d.log")"
echo ok
