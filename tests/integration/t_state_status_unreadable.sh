#!/usr/bin/env bash
# t_state_status_unreadable.sh - `mailsift status` run by a user who
# cannot read the status file (a `run --once` from root's crontab left it
# root's, and the admin asks as the mailsift user) says so, naming the
# file, the cause and the fix, and exits 1; it never claims that the
# daemon "has not run with this state_dir yet".
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (files of another user)"; exit 77; }
new_user
u=$IMAP_USER
state=$T_DIR/state-$u
write_config "$T_DIR/c.json"
chmod 0644 "$T_DIR/c.json"
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: hello" >/dev/null
imap_append "$u" INBOX "$T_DIR/m.eml" >/dev/null
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run --once as root"
[ -f "$state/status.json" ] || fail "no status file after a run"

# Everything the other user's, but the status file root's (0600).
chown -R nobody:nogroup "$state"
chown root:root "$state/status.json"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

rc=0
out=$(as_nobody "$MAILSIFT" status -c "$T_DIR/c.json" 2>&1) || rc=$?
echo "$out"
assert_eq 1 "$rc" "exit status of status with an unreadable status file"
grep -q "has not run" <<<"$out" && fail "claims the daemon never ran: $out"
grep -q "cannot read the status file $state/status.json: Permission denied" \
	<<<"$out" || fail "does not name the file and the cause: $out"
grep -q "writable for user nobody\|readable for user nobody" <<<"$out" ||
	fail "does not say what to do: $out"

# Readable again: status works as that user.
chown nobody:nogroup "$state/status.json"
out=$(as_nobody "$MAILSIFT" status -c "$T_DIR/c.json" 2>&1) ||
	fail "status as the owner of the files: $out"
grep -q "^daemon: stopped" <<<"$out" || fail "status after the fix: $out"
echo ok
