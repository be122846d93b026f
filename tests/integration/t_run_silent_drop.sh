#!/usr/bin/env bash
# t_run_silent_drop.sh - a connection dropped without a word (the proxy
# stops forwarding both ways, no FIN, no RST: what AOL, NAT routers and
# firewalls do to idle connections) while the daemon IDLEs.  Re-issuing
# IDLE every imap.idle_restart (5 s here) runs into imap.timeout (3 s), so
# the daemon notices within about 8 s, reconnects, and files the message
# that arrived meanwhile.  The socket has TCP keepalive on.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "ticket" { fileinto "Tickets"; }
SIEVE
proxy_start "$IMAP_PORT"
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" port="$PROXY_PORT" \
	timeout=3 idle_restart=5 log_level=debug
bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json"
pid=$BG_PID
wait_until 30 grep -q '> [A-Z0-9]* IDLE' "$T_DIR/d.log"

# Keepalive shows as a timer on the daemon's established socket once
# nothing is in flight on it.
keepalive_on() {
	ss -tnoH state established "( dport = :$PROXY_PORT )" > "$T_DIR/ss.txt"
	grep -q 'timer:(keepalive' "$T_DIR/ss.txt"
}
wait_until 10 keepalive_on

proxy_ctl now drop
wait_until 10 grep -q 'drop@' "$PROXY_LOG"
start=$(now_ms)
make_msg "$T_DIR/t1.eml" "From: a@example.org" "Subject: ticket 1" >/dev/null
imap_append "$u" INBOX "$T_DIR/t1.eml" >/dev/null
wait_until 60 count_is "$u" Tickets 1
took=$(( $(now_ms) - start ))
echo "filed $took ms after the silent drop"
# idle_restart + timeout + 1 s of backoff, with room for a busy machine;
# before, the drop went unnoticed for the 25 minutes of idle_restart.
[ "$took" -lt 30000 ] || fail "noticed the drop only after $took ms"
grep 'retrying in' "$T_DIR/d.log" | grep -q 'longer than 3 s' ||
	fail "the drop is not logged as a timeout: $(grep -v '<7>' "$T_DIR/d.log")"
assert_eq 0 "$(imap_count "$u" INBOX)" "INBOX"
kill -0 "$pid" || fail "daemon died"
bg_stop "$pid" || fail "daemon exit status $?"
echo ok
