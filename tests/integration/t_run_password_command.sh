#!/usr/bin/env bash
# t_run_password_command.sh - a password_command that never finishes is
# stopped, with its whole process group, after imap.timeout with a clear
# error; SIGTERM to mailsift while the command runs stops both at once,
# leaving no process behind.
. "$(dirname "$0")/lib.sh"

new_user
marker=9$RANDOM$RANDOM
# The command's own children (the sleep) are what a plain kill misses.
cmd="sleep ${marker}1; echo never"
write_config "$T_DIR/slow.json" -password_file "password_command=$cmd" timeout=2
none_left() { ! pgrep -f "sleep ${marker}" >/dev/null; }

start=$(now_ms)
rc=0; "$MAILSIFT" run -c "$T_DIR/slow.json" --once > "$T_DIR/once.log" 2>&1 || rc=$?
took=$(( $(now_ms) - start ))
echo "run --once gave up after $took ms"
assert_eq 1 "$rc" "exit status when the password command hangs"
grep -q "password command '$cmd' did not finish within 2 s" "$T_DIR/once.log" ||
	fail "unclear error: $(cat "$T_DIR/once.log")"
wait_until 5 none_left

# A command that prints the password and then lingers with its output
# closed is stopped too.
cmd2="echo '$IMAP_PASS'; exec >&-; sleep ${marker}2"
write_config "$T_DIR/linger.json" -password_file "password_command=$cmd2" timeout=2
rc=0; "$MAILSIFT" run -c "$T_DIR/linger.json" --once > "$T_DIR/linger.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status when the password command lingers"
grep -q "did not finish within 2 s" "$T_DIR/linger.log" ||
	fail "lingering command: $(cat "$T_DIR/linger.log")"
wait_until 5 none_left

# SIGTERM while the command runs (the daemon, a long timeout).
write_config "$T_DIR/term.json" -password_file "password_command=sleep ${marker}3" timeout=300
bg_start "$T_DIR/term.log" "$MAILSIFT" run -c "$T_DIR/term.json"
pid=$BG_PID
wait_until 20 pgrep -f "sleep ${marker}3"
kill -TERM "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_until 5 gone
rc=0; wait "$pid" || rc=$?
assert_eq 0 "$rc" "exit status after SIGTERM during the password command"
wait_until 5 none_left

# A good command still works.
write_config "$T_DIR/good.json" -password_file "password_command=cat '$T_DIR/$IMAP_USER.pass'"
"$MAILSIFT" run -c "$T_DIR/good.json" --once || fail "a good password command"
echo ok
