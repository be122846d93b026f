#!/usr/bin/env bash
# t_run_unreadable.sh - a message whose FETCH kills the connection every
# time (the fault proxy closes every connection as soon as that message's
# bytes come through, as a server crashing on a broken mail file would):
# the daemon tries it three times, then leaves it in INBOX unread, says so
# in the log, sorts the messages around it and the mail that comes later.
# It is not wedged in a reconnect loop, and the message is not lost.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "ticket" { fileinto "Tickets"; }
SIEVE
make_msg "$T_DIR/t1.eml" "From: a@example.org" "Subject: ticket 1" >/dev/null
make_msg "$T_DIR/p.eml" "From: b@example.org" "Subject: ticket poison" \
	"body=POISON-MARKER: the server dies whenever it sends this" >/dev/null
make_msg "$T_DIR/t2.eml" "From: c@example.org" "Subject: ticket 2" >/dev/null
for m in t1 p t2; do
	imap_append "$u" INBOX "$T_DIR/$m.eml" >/dev/null
done
proxy_start "$IMAP_PORT" --default 'close@s2c:/POISON-MARKER/'
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" port="$PROXY_PORT" \
	timeout=5
bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID

wait_until 60 count_is "$u" Tickets 2
wait_until 10 grep -q 'left in place unread' "$T_DIR/d.log"
assert_eq 3 "$(grep -c 'close@s2c at byte' "$PROXY_LOG")" "broken fetches"
assert_eq 1 "$(imap_count "$u" INBOX)" "INBOX"
[ -n "$(imap_search "$u" INBOX header subject poison)" ] ||
	fail "the unreadable message is not in INBOX"
[ -z "$(imap_search "$u" INBOX seen)" ] || fail "it was marked read"

# Not wedged: later mail is sorted, and the message is not tried again.
make_msg "$T_DIR/t3.eml" "From: d@example.org" "Subject: ticket 3" >/dev/null
imap_append "$u" INBOX "$T_DIR/t3.eml" >/dev/null
wait_until 30 count_is "$u" Tickets 3
assert_eq 3 "$(grep -c 'close@s2c at byte' "$PROXY_LOG")" "broken fetches"
kill -0 "$pid" || fail "daemon died: $(tail -5 "$T_DIR/d.log")"
bg_stop "$pid" || fail "daemon exit status $?"
grep 'left in place unread' "$T_DIR/d.log"
echo ok
