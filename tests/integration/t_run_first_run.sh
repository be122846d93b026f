#!/usr/bin/env bash
# t_run_first_run.sh - the first run respects what the owner already did:
# in an INBOX of read and unread, old and recent mail (INTERNALDATE set
# by APPEND), the first run sorts only unread mail of the last
# first_run_days and leaves the rest as found, counted in `status`; mail
# that arrives later is sorted whatever its flags; `run --once --backlog
# --dry-run` prints what it would do and changes nothing on the server
# (no flag, no move, no \Recent taken) nor in the ledger; `--backlog
# --since` sorts only what arrived since; `--backlog` sorts the rest,
# exactly once.  A folder added to folders.watch later gets the same
# first look.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
# Every message the script sees goes to "Sorted": sorted = moved.
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
fileinto "Sorted";
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"
mid() { make_msg "$T_DIR/$1.eml" "From: someone@example.net" "Subject: $1"; }

declare -A id
id[old_read]=$(mid old_read)
id[old_unread]=$(mid old_unread)
id[recent_read]=$(mid recent_read)
id[recent_unread]=$(mid recent_unread)
id[today_unread]=$(mid today_unread)
imap_append "$u" INBOX "$T_DIR/old_read.eml" '\Seen' 90 >/dev/null
imap_append "$u" INBOX "$T_DIR/old_unread.eml" '' 60 >/dev/null
imap_append "$u" INBOX "$T_DIR/recent_read.eml" '\Seen' 5 >/dev/null
imap_append "$u" INBOX "$T_DIR/recent_unread.eml" '' 5 >/dev/null
imap_append "$u" INBOX "$T_DIR/today_unread.eml" >/dev/null

in_box() { # BOX NAME: the message NAME is in BOX
	[ -n "$(imap_search "$u" "$1" header message-id "${id[$2]}")" ]
}
decisions() { ledger_sql "$T_DIR/state-$u" "SELECT count(*) FROM decisions"; }

# First run: only the unread recent mail is sorted.
"$MAILSIFT" run -c "$T_DIR/c.json" --once 2> "$T_DIR/run1.err" \
	|| fail "first run failed: $(cat "$T_DIR/run1.err")"
assert_eq 2 "$(imap_count "$u" Sorted)" "messages sorted by the first run"
in_box Sorted recent_unread || fail "recent unread mail was not sorted"
in_box Sorted today_unread || fail "today's unread mail was not sorted"
for m in old_read old_unread recent_read; do
	in_box INBOX "$m" || fail "$m was moved by the first run"
done
assert_eq '\Seen' "$(imap_flags "$u" INBOX "$(imap_search "$u" INBOX \
	header message-id "${id[old_read]}")")" "flags of old read mail"
grep -q "3 read or older one(s) are left as you had them" "$T_DIR/run1.err" \
	|| fail "the first run does not say what it left: $(cat "$T_DIR/run1.err")"
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status1.txt" \
	|| fail "status failed"
grep -q "^  INBOX: 3$" "$T_DIR/status1.txt" \
	|| fail "status does not count what was left: $(cat "$T_DIR/status1.txt")"
"$MAILSIFT" status -c "$T_DIR/c.json" --json | grep -Eq '"INBOX": ?3' \
	|| fail "status --json does not count what was left"

# Later runs leave the old mail alone, but sort new mail, even mail that
# arrives read and with an old date (another client moved it in).
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "second run failed"
assert_eq 3 "$(imap_count "$u" INBOX)" "INBOX after a second run"
id[late_read]=$(mid late_read)
imap_append "$u" INBOX "$T_DIR/late_read.eml" '\Seen' 200 >/dev/null
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "third run failed"
in_box Sorted late_read || fail "mail arriving after the first run was not sorted"
assert_eq 3 "$(imap_count "$u" INBOX)" "INBOX after new mail was sorted"

# --backlog --dry-run: says what it would do, changes nothing.  A message
# appended now carries \Recent, which a SELECT would take.
id[pending]=$(mid pending)
imap_append "$u" Other "$T_DIR/pending.eml" >/dev/null
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" watch=INBOX,Other
inbox_state() {
	dadm -f flow mailbox status -u "$u" "messages recent highestmodseq" \
		INBOX Other Sorted
	dadm -f flow fetch -u "$u" "mailbox uid flags" mailbox '*'
}
inbox_state > "$T_DIR/before.txt"
grep -q "recent=1" "$T_DIR/before.txt" \
	|| fail "test set-up: no \\Recent message: $(cat "$T_DIR/before.txt")"
decisions_before=$(decisions)
"$MAILSIFT" run -c "$T_DIR/c.json" --once --backlog --dry-run \
	> "$T_DIR/dry.out" 2> "$T_DIR/dry.err" \
	|| fail "dry run failed: $(cat "$T_DIR/dry.err")"
inbox_state > "$T_DIR/after.txt"
diff "$T_DIR/before.txt" "$T_DIR/after.txt" \
	|| fail "--dry-run changed the mailbox"
assert_eq "$decisions_before" "$(decisions)" "decisions after --dry-run"
[ ! -e "$T_DIR/state-$u/status.json" ] ||
	grep -q '"stopped"' "$T_DIR/state-$u/status.json" \
	|| fail "--dry-run rewrote the daemon's status file"
cat "$T_DIR/dry.out"
grep -q "^INBOX:$" "$T_DIR/dry.out" || fail "dry run lacks the INBOX heading"
grep -q "^Other:$" "$T_DIR/dry.out" || fail "dry run lacks the Other heading"
assert_eq 4 "$(grep -c "move to 'Sorted'" "$T_DIR/dry.out")" \
	"moves announced by the dry run (3 in INBOX, 1 in Other)"
grep -q "Subject: old_read" "$T_DIR/dry.out" \
	|| fail "dry run does not name the messages"
grep -q "^INBOX: would move 3, keep 0" "$T_DIR/dry.out" \
	|| fail "dry run lacks the INBOX summary"

# Other is looked at for the first time: its unread recent message is
# sorted, and nothing else is there.
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run with Other failed"
in_box Sorted pending || fail "the added folder's new mail was not sorted"
assert_eq 3 "$(imap_count "$u" INBOX)" "INBOX after adding a folder"

# Beside a running daemon a dry run works (it writes nothing) and a
# backlog run is refused: the daemon would not do the work asked for.
bg_start "$T_DIR/daemon.log" "$MAILSIFT" run -c "$T_DIR/c.json"
daemon=$BG_PID
wait_until 30 grep -q '"idle"' "$T_DIR/state-$u/status.json"
"$MAILSIFT" run -c "$T_DIR/c.json" --once --backlog --dry-run > "$T_DIR/dry2.out" \
	|| fail "dry run beside the daemon failed"
grep -q "^INBOX: would move 3" "$T_DIR/dry2.out" \
	|| fail "dry run beside the daemon: $(cat "$T_DIR/dry2.out")"
"$MAILSIFT" run -c "$T_DIR/c.json" --once --backlog 2> "$T_DIR/refused.err"; rc=$?
assert_eq 1 "$rc" "exit status of --backlog beside the daemon"
grep -q "stop it .* for the --backlog run" "$T_DIR/refused.err" \
	|| fail "--backlog beside the daemon: $(cat "$T_DIR/refused.err")"
bg_stop "$daemon" || fail "the daemon did not stop cleanly"
assert_eq 3 "$(imap_count "$u" INBOX)" "INBOX after the daemon ran"

# --backlog --since: only what arrived since then.
"$MAILSIFT" run -c "$T_DIR/c.json" --once --backlog \
	--since "$(date -d '10 days ago' +%Y-%m-%d)" \
	|| fail "--backlog --since failed"
in_box Sorted recent_read || fail "--since did not sort recent read mail"
assert_eq 2 "$(imap_count "$u" INBOX)" "INBOX after --backlog --since"
"$MAILSIFT" status -c "$T_DIR/c.json" | grep -q "^  INBOX: 2$" \
	|| fail "status does not count what --since left"

# --backlog: the rest, exactly once.
"$MAILSIFT" run -c "$T_DIR/c.json" --once --backlog || fail "--backlog failed"
assert_eq 0 "$(imap_count "$u" INBOX)" "INBOX after --backlog"
assert_eq 7 "$(imap_count "$u" Sorted)" "messages in Sorted after --backlog"
decisions_done=$(decisions)
"$MAILSIFT" run -c "$T_DIR/c.json" --once --backlog || fail "second --backlog failed"
assert_eq 7 "$(imap_count "$u" Sorted)" "messages in Sorted after a second --backlog"
assert_eq "$decisions_done" "$(decisions)" "decisions after a second --backlog"
for m in "${!id[@]}"; do
	assert_eq 1 "$(imap_search "$u" Sorted header message-id "${id[$m]}" | wc -l)" \
		"copies of $m in Sorted"
done
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status2.txt"
grep -q "left as found" "$T_DIR/status2.txt" \
	&& fail "status still counts a backlog: $(cat "$T_DIR/status2.txt")"

# Options that do not go together are refused as usage errors.
"$MAILSIFT" run -c "$T_DIR/c.json" --backlog 2>/dev/null; rc=$?
assert_eq 2 "$rc" "exit status of --backlog without --once"
"$MAILSIFT" run -c "$T_DIR/c.json" --once --backlog --since 1.2.2026 2>/dev/null; rc=$?
assert_eq 2 "$rc" "exit status of a bad --since"
echo ok
