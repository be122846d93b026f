#!/usr/bin/env bash
# t_state_modes.sh - every state file (ledger, token store, their -wal and
# -shm, status file, lock) is 0600 whatever the umask, in a state_dir
# that already exists with mode 0755; files an older mailsift left 0644
# are made 0600.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
mkdir -m 0755 "$state"
write_config "$T_DIR/c.json"
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: hello" >/dev/null
imap_append "$u" INBOX "$T_DIR/m.eml" >/dev/null

modes() {
	local f
	for f in "$state"/*; do
		printf '%s %s\n' "$(stat -c %a "$f")" "${f##*/}"
	done
}
all_private() {
	local m f bad=
	while read -r m f; do
		[ "$m" = 600 ] || bad+=" $f:$m"
	done < <(modes)
	[ -z "$bad" ] || { echo "not 0600:$bad"; return 1; }
}

(umask 0; exec "$MAILSIFT" train --ham -c "$T_DIR/c.json" "$T_DIR/m.eml") \
	>/dev/null || fail "train"
all_private || fail "after train: $(modes)"

bg_start "$T_DIR/d.log" bash -c "umask 0; exec '$MAILSIFT' run -c '$T_DIR/c.json'"
pid=$BG_PID
wait_until 20 grep -q '"state":"idle"' "$state/status.json"
for f in ledger.db-wal ledger.db-shm tokens.db-shm lock status.json; do
	[ -e "$state/$f" ] || fail "no $f while the daemon runs: $(modes)"
done
all_private || fail "while the daemon runs: $(modes)"
bg_stop "$pid" || fail "daemon exit status $?"
all_private || fail "after the daemon: $(modes)"

# Files an older mailsift made under umask 022 become private.
chmod 0644 "$state/ledger.db" "$state/tokens.db" "$state/status.json" "$state/lock"
(umask 022; exec "$MAILSIFT" run -c "$T_DIR/c.json" --once) || fail "run --once"
all_private || fail "after a run over 0644 files: $(modes)"
echo ok
