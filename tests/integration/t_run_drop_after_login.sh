#!/usr/bin/env bash
# t_run_drop_after_login.sh - a server that drops every session right
# after login (the fault proxy closes each connection when the first
# SELECT comes, once login and LIST went through): `run --once` gives up with exit 1 after a bounded number
# of sessions, naming the cause; the daemon's backoff grows instead of
# starting again at 1 s after each login; SIGTERM during the backoff
# pause stops it at once.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: hello" >/dev/null
imap_append "$u" INBOX "$T_DIR/m.eml" >/dev/null
proxy_start "$IMAP_PORT" --default 'close@c2s:/SELECT/'
write_config "$T_DIR/c.json" port="$PROXY_PORT" timeout=5
connections() { grep -Eo 'conn [0-9]+' "$PROXY_LOG" | sort -u | wc -l; }

bg_start "$T_DIR/once.log" "$MAILSIFT" run -c "$T_DIR/c.json" --once
pid=$BG_PID
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 60 gone
rc=0; wait "$pid" || rc=$?
assert_eq 1 "$rc" "run --once exit status"
n=$(connections)
echo "run --once gave up after $n sessions"
[ "$n" -ge 2 ] && [ "$n" -le 5 ] || fail "$n sessions before giving up"
grep -q "gave up after $n sessions" "$T_DIR/once.log" &&
	grep -qi "closed\|lost\|connection" "$T_DIR/once.log" ||
	fail "unclear: $(cat "$T_DIR/once.log")"
assert_eq 1 "$(imap_count "$u" INBOX)" "INBOX untouched"

# The daemon: 1, 2, 4, 8 s between sessions, not 1 s each time.
: > "$PROXY_LOG"
bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json"
pid=$BG_PID
wait_until 30 grep -q "retrying in 8 s" "$T_DIR/d.log"
n=$(connections)
[ "$n" -le 5 ] || fail "$n sessions before the 8 s pause: the backoff restarted"
# SIGTERM in the middle of that pause.
start=$(now_ms)
kill -TERM "$pid"
wait_until 5 gone
echo "stopped $(( $(now_ms) - start )) ms after SIGTERM in the backoff pause"
rc=0; wait "$pid" || rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM in the backoff pause"
echo ok
