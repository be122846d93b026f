#!/usr/bin/env bash
# t_state_full.sh - a state_dir on a full or read-only file system (a
# small tmpfs of its own): the daemon pauses sorting, touching no mail,
# `status` says why (file, cause, fix) in text and JSON, and sorting
# resumes by itself once space returns or the file system is writable
# again; `run --once` exits 1 with the same explanation; a state_dir
# another user owns is explained too.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: mounting a small tmpfs needs root"; exit 0; }
new_user
u=$IMAP_USER
state=$T_DIR/state-$u
mkdir -p "$state"
mount -t tmpfs -o size=4m,mode=0700 tmpfs "$state" || fail "cannot mount a tmpfs"
trap 'lib_cleanup; sleep 0.5; umount -l "$state"' EXIT
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
fileinto "Archive";
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" poll_interval=1
n=0
deliver() {
	local i
	for i in $(seq 1 "$1"); do
		n=$((n + 1))
		make_msg "$T_DIR/m$n.eml" "From: a$n@example.org" "Subject: note $n" >/dev/null
		imap_append "$u" INBOX "$T_DIR/m$n.eml" >/dev/null
	done
}
status_has() {
	"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.out" 2>&1 &&
		grep -q -- "$1" "$T_DIR/status.out"
}
fill() { dd if=/dev/zero of="$state/fill" bs=64k 2>/dev/null; sync; }

bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json"
pid=$BG_PID
deliver 1
wait_until 20 count_is "$u" Archive 1

# Disk full: the daemon waits, the mail stays where it is.
fill
deliver 5
wait_until 30 grep -q "No space left on device" "$T_DIR/d.log"
sleep 2
kill -0 "$pid" || fail "the daemon exited on a full disk: $(tail -5 "$T_DIR/d.log")"
assert_eq 1 "$(imap_count "$u" Archive)" "Archive while the disk is full"
assert_eq 5 "$(imap_count "$u" INBOX)" "INBOX while the disk is full"
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.txt" 2>&1 ||
	fail "status on a full disk: $(cat "$T_DIR/status.txt")"
grep -q "paused" "$T_DIR/status.txt" &&
	grep -q "$state/ledger.db: No space left on device; free space" "$T_DIR/status.txt" ||
	fail "status does not say why sorting waits: $(cat "$T_DIR/status.txt")"
"$MAILSIFT" status -c "$T_DIR/c.json" --json > "$T_DIR/status.json" ||
	fail "status --json on a full disk"
python3 - "$T_DIR/status.json" <<'PY' || fail "status --json: $(cat "$T_DIR/status.json")"
import json, sys
d = json.load(open(sys.argv[1]))["daemon"]
assert d["state"] == "paused", d["state"]
assert "No space left on device" in d["paused"], d["paused"]
PY
grep -q "no transaction is active" "$T_DIR/d.log" && fail "rollback error in the log"
grep -q "^<3>mailsift: *$" "$T_DIR/d.log" && fail "an empty error line in the log"

# Space returns: sorting resumes by itself.
rm -f "$state/fill"
wait_until 30 count_is "$u" Archive 6
assert_eq 0 "$(imap_count "$u" INBOX)" "INBOX after space returned"
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status2.txt"
grep -q "paused" "$T_DIR/status2.txt" && fail "still paused: $(cat "$T_DIR/status2.txt")"

bg_stop "$pid" || fail "daemon exit status $?"

# --once on a full disk: exit 1, the same explanation, no mail touched.
fill
deliver 1
rc=0; "$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/once.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "run --once exit status on a full disk"
grep -q "ledger.db: No space left on device; free space" "$T_DIR/once.log" ||
	fail "run --once on a full disk: $(cat "$T_DIR/once.log")"
assert_eq 1 "$(imap_count "$u" INBOX)" "INBOX after run --once on a full disk"
rm -f "$state/fill"

# A read-only state_dir (no file open for writing, or the kernel refuses
# the remount): run and status say which file, why, and what to do.
mount -o remount,ro "$state" || fail "cannot remount read-only"
deliver 2
rc=0; "$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/ro.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "run --once exit status on a read-only state_dir"
grep -q "$state.*mounted read-only: remount it read-write" "$T_DIR/ro.log" ||
	fail "run --once on a read-only state_dir: $(cat "$T_DIR/ro.log")"
grep -qi "move it away" "$T_DIR/ro.log" && fail "advice to discard: $(cat "$T_DIR/ro.log")"
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status-ro.txt" 2>&1
grep -q "mounted read-only: remount it read-write" "$T_DIR/status-ro.txt" ||
	fail "status on a read-only state_dir: $(cat "$T_DIR/status-ro.txt")"
assert_eq 3 "$(imap_count "$u" INBOX)" "INBOX while read-only"
mount -o remount,rw "$state"
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run --once once writable"
assert_eq 9 "$(imap_count "$u" Archive)" "Archive once writable"

# A state_dir the user running mailsift cannot write (root's, 0700).
rc=0; setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/perm.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "run --once exit status as another user"
grep -q "$state/ledger.db: Permission denied; make .* writable for user nobody" \
	"$T_DIR/perm.log" || fail "run --once as another user: $(cat "$T_DIR/perm.log")"
echo ok
