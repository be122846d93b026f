#!/usr/bin/env bash
# t_run_undo.sh - `mailsift undo` puts a filed message back, exactly once;
# undoing a move into Junk trains it as ham and keeps it out of Junk for
# good; a message moved on by a client since is left alone.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "offer" { fileinto "Junk"; }
elsif header :contains "Subject" "[list]" { fileinto "Lists"; }
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"
state=$T_DIR/state-$u
q() { sqlite3 -cmd ".timeout 5000" "$state/ledger.db" "$1"; }

make_msg "$T_DIR/j.eml" "From: deals@shop.example.com" "Subject: special offer" >/dev/null
make_msg "$T_DIR/l.eml" "From: list@example.org" "Subject: [list] hello" >/dev/null
imap_append "$u" INBOX "$T_DIR/j.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/l.eml" >/dev/null
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "first run"
assert_eq 1 "$(imap_count "$u" Junk)" "filed into Junk"
assert_eq 1 "$(imap_count "$u" Lists)" "filed into Lists"

junk_id=$(q "SELECT id FROM decisions WHERE dest_folder = 'Junk'")
list_id=$(q "SELECT id FROM decisions WHERE dest_folder = 'Lists'")
"$MAILSIFT" status -c "$T_DIR/c.json" | grep -q "#$junk_id " \
	|| fail "status does not show decision numbers"

"$MAILSIFT" undo -c "$T_DIR/c.json" "$junk_id" > "$T_DIR/undo.out" \
	|| fail "undo failed: $(cat "$T_DIR/undo.out")"
assert_eq 0 "$(imap_count "$u" Junk)" "Junk after undo"
assert_eq 1 "$(imap_count "$u" INBOX)" "INBOX after undo"
assert_eq undone "$(q "SELECT state FROM decisions WHERE id = $junk_id")" "decision state"
assert_eq "ham 1" "$(q "SELECT trained || ' ' || rescued FROM messages m JOIN decisions d ON d.message = m.id WHERE d.id = $junk_id")" \
	"training of the rescued message"
uid=$(imap_uids "$u" INBOX | head -1)
case " $(imap_flags "$u" INBOX "$uid") " in
*' $Junk '*) fail "still tagged \$Junk" ;;
esac

# Sorting again leaves it in INBOX, although the rule still matches.
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "second run"
assert_eq 1 "$(imap_count "$u" INBOX)" "INBOX after another pass"
assert_eq 0 "$(imap_count "$u" Junk)" "Junk after another pass"

# Undoing twice is refused; so is undoing a message a client moved on.
rc=0; "$MAILSIFT" undo -c "$T_DIR/c.json" "$junk_id" 2> "$T_DIR/err" || rc=$?
assert_eq 1 "$rc" "second undo"
grep -q "decision $junk_id was undone already" "$T_DIR/err" \
	|| fail "second undo, unclear: $(cat "$T_DIR/err")"
imap_create "$u" Archive
imap_move "$u" Lists "$(imap_uids "$u" Lists | head -1)" Archive
rc=0; "$MAILSIFT" undo -c "$T_DIR/c.json" "$list_id" 2> "$T_DIR/err" || rc=$?
assert_eq 1 "$rc" "undo of a message moved on"
grep -q "no longer in 'Lists'" "$T_DIR/err" || fail "unclear: $(cat "$T_DIR/err")"
assert_eq 1 "$(imap_count "$u" Archive)" "the moved-on message stays put"
rc=0; "$MAILSIFT" undo -c "$T_DIR/c.json" 999 2>/dev/null || rc=$?
assert_eq 1 "$rc" "unknown decision"
echo ok
