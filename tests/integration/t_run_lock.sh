#!/usr/bin/env bash
# t_run_lock.sh - one sorter per state_dir: two `run --once` started
# together sort every message exactly once; a second `run` beside the
# daemon names the daemon's pid (daemon: exit 1, --once: exit 0, nothing
# to do); train, untrain, undo and status work beside the daemon; the
# lock goes with a SIGKILLed daemon.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "offer" { fileinto "Junk"; stop; }
fileinto "TA"; fileinto "TB"; fileinto "TC";
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"
N=60
mkdir -p "$T_DIR/msgs"
for i in $(seq 1 $N); do
	make_msg "$T_DIR/msgs/m$i.eml" "From: a$i@example.org" \
		"Subject: note $i" >/dev/null
	imap_append "$u" INBOX "$T_DIR/msgs/m$i.eml" >/dev/null
done

# Two sorters at once, as cron beside a long catch-up would start them.
"$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/o1.log" 2>&1 &
p1=$!
"$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/o2.log" 2>&1 &
p2=$!
rc1=0; wait $p1 || rc1=$?
rc2=0; wait $p2 || rc2=$?
for box in TA TB TC; do
	assert_eq $N "$(imap_count "$u" $box)" "messages in $box"
done
assert_eq 0 "$(imap_count "$u" INBOX)" "messages left in INBOX"
assert_eq "0 0" "$rc1 $rc2" "exit statuses of the two --once runs"
grep -q "another mailsift (pid $p1)" "$T_DIR/o2.log" ||
	grep -q "another mailsift (pid $p2)" "$T_DIR/o1.log" ||
	fail "neither run named the other: $(cat "$T_DIR/o1.log" "$T_DIR/o2.log")"
echo "two --once runs: each message filed once"

# The daemon holds the lock for its whole life.
make_msg "$T_DIR/j.eml" "From: deals@shop.example.com" "Subject: special offer" >/dev/null
imap_append "$u" INBOX "$T_DIR/j.eml" >/dev/null
bg_start "$T_DIR/d1.log" "$MAILSIFT" run -c "$T_DIR/c.json"
daemon=$BG_PID
wait_until 20 count_is "$u" Junk 1
assert_eq "$daemon" "$(cat "$state/lock")" "pid in the lock file"

rc=0; "$MAILSIFT" run -c "$T_DIR/c.json" > "$T_DIR/d2.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of a second daemon"
grep -q "another mailsift (pid $daemon) is already sorting" "$T_DIR/d2.log" ||
	fail "second daemon: $(cat "$T_DIR/d2.log")"
rc=0; "$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/o3.log" 2>&1 || rc=$?
assert_eq 0 "$rc" "exit status of --once beside the daemon"
grep -q "another mailsift (pid $daemon) is sorting .*nothing to do" \
	"$T_DIR/o3.log" || fail "--once beside the daemon: $(cat "$T_DIR/o3.log")"
rc=0; "$MAILSIFT" run -c "$T_DIR/c.json" --once --log-level warn \
	> "$T_DIR/o4.log" 2>&1 || rc=$?
assert_eq "0:" "$rc:$(cat "$T_DIR/o4.log")" "--once --log-level warn beside the daemon (cron)"
kill -0 "$daemon" || fail "the daemon stopped: $(cat "$T_DIR/d1.log")"

# The other commands work beside it.
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.out" ||
	fail "status beside the daemon"
"$MAILSIFT" train --spam -c "$T_DIR/c.json" "$T_DIR/j.eml" ||
	fail "train beside the daemon"
"$MAILSIFT" untrain --spam -c "$T_DIR/c.json" "$T_DIR/j.eml" ||
	fail "untrain beside the daemon"
id=$(ledger_sql "$state" "SELECT id FROM decisions WHERE dest_folder = 'Junk'")
"$MAILSIFT" undo -c "$T_DIR/c.json" "$id" > "$T_DIR/undo.out" 2>&1 ||
	fail "undo beside the daemon: $(cat "$T_DIR/undo.out")"
assert_eq 0 "$(imap_count "$u" Junk)" "Junk after undo"

# SIGKILL: the kernel drops the lock; the next run sorts.
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null
make_msg "$T_DIR/late.eml" "From: b@example.org" "Subject: late" >/dev/null
imap_append "$u" INBOX "$T_DIR/late.eml" >/dev/null
"$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/o5.log" 2>&1 ||
	fail "run after SIGKILL: $(cat "$T_DIR/o5.log")"
[ -n "$(imap_search "$u" TC header subject late)" ] ||
	fail "the late message was not sorted: $(cat "$T_DIR/o5.log")"
echo ok
