#!/usr/bin/env bash
# t_state_owner.sh - commands the administrator runs as root (train,
# train --from-folders, run --once, status) for a mailbox whose state
# lives in the daemon's user's directory (the package's /var/lib/mailsift)
# leave everything there to that user, so that the daemon can write it:
# state_dir itself when they make it, the ledger, the token store, their
# -wal and -shm, the lock and the status file.  Needs root (skipped
# otherwise).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
owner=nobody
id "$owner" >/dev/null 2>&1 || { echo "skip: no user $owner"; exit 77; }

new_user
u=$IMAP_USER
lib=$T_DIR/lib
mkdir -m 0755 "$lib"
chown "$owner:$(id -gn "$owner")" "$lib"
state=$lib/$u		# made by the first command
write_config "$T_DIR/c.json" "state_dir=$state"
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: hello" >/dev/null
imap_append "$u" INBOX "$T_DIR/m.eml" '\Seen' >/dev/null

not_owned() { find "$state" ! -user "$owner" -printf '%f:%u ' ; }
check() {
	local bad
	bad=$(not_owned)
	[ -z "$bad" ] || fail "after $1, not $owner's: $bad"
}

"$MAILSIFT" train --ham -c "$T_DIR/c.json" "$T_DIR/m.eml" >/dev/null \
	|| fail "train"
check train
"$MAILSIFT" train -c "$T_DIR/c.json" --from-folders >/dev/null \
	|| fail "train --from-folders"
check "train --from-folders"
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run --once"
check "run --once"
"$MAILSIFT" status -c "$T_DIR/c.json" >/dev/null || fail "status"
check status
for f in ledger.db tokens.db lock status.json; do
	[ -e "$state/$f" ] || fail "no $f: $(ls "$state")"
done
echo ok
