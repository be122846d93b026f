#!/usr/bin/env bash
# t_state_ledger.sh - a ledger that is missing or empty in a state_dir
# that was used before is refused (with the way forward), never silently
# replaced by a new one that would sort every message again; the way
# forward (--fresh-ledger) files nothing twice; training before the first
# run is not mistaken for earlier use.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
fileinto "Archive"; keep;
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"
mkdir -p "$T_DIR/msgs"
for i in 1 2 3 4 5; do
	make_msg "$T_DIR/msgs/m$i.eml" "From: a$i@example.org" \
		"Subject: note $i" >/dev/null
	imap_append "$u" INBOX "$T_DIR/msgs/m$i.eml" >/dev/null
done
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "first run"
assert_eq 5 "$(imap_count "$u" Archive)" "Archive after the first run"

for damage in empty missing; do
	case $damage in
	empty) : > "$state/ledger.db" ;;
	missing) rm -f "$state/ledger.db" ;;
	esac
	rm -f "$state/ledger.db-wal" "$state/ledger.db-shm"
	rc=0; "$MAILSIFT" run -c "$T_DIR/c.json" --once > "$T_DIR/$damage.log" 2>&1 || rc=$?
	assert_eq 2 "$rc" "exit status with a $damage ledger"
	assert_eq 5 "$(imap_count "$u" Archive)" "Archive after a run with a $damage ledger"
	grep -q "ledger $state/ledger.db is $damage" "$T_DIR/$damage.log" &&
		grep -qi "restore" "$T_DIR/$damage.log" &&
		grep -q -- "--fresh-ledger" "$T_DIR/$damage.log" ||
		fail "unclear refusal: $(cat "$T_DIR/$damage.log")"
	# status, undo and train --from-folders do not make a new one either.
	rc=0; "$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/st.log" 2>&1 || rc=$?
	assert_eq 2 "$rc" "status with a $damage ledger"
	grep -q -- "--fresh-ledger" "$T_DIR/st.log" || fail "status: $(cat "$T_DIR/st.log")"
	rc=0; "$MAILSIFT" undo -c "$T_DIR/c.json" 1 > "$T_DIR/undo.log" 2>&1 || rc=$?
	assert_eq 2 "$rc" "undo with a $damage ledger"
	case $damage in
	empty) [ ! -s "$state/ledger.db" ] || fail "the empty ledger was filled" ;;
	missing) [ ! -e "$state/ledger.db" ] || fail "a new ledger was made" ;;
	esac
done

# The way forward: a new ledger that takes what is there as sorted.
"$MAILSIFT" run -c "$T_DIR/c.json" --once --fresh-ledger > "$T_DIR/fresh.log" 2>&1 ||
	fail "--fresh-ledger: $(cat "$T_DIR/fresh.log")"
assert_eq 5 "$(imap_count "$u" Archive)" "Archive after --fresh-ledger"
make_msg "$T_DIR/msgs/m6.eml" "From: a6@example.org" "Subject: note 6" >/dev/null
imap_append "$u" INBOX "$T_DIR/msgs/m6.eml" >/dev/null
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run after --fresh-ledger"
assert_eq 6 "$(imap_count "$u" Archive)" "new mail is sorted after --fresh-ledger"
assert_eq 6 "$(imap_count "$u" INBOX)" "INBOX keeps its messages"
rc=0; "$MAILSIFT" run -c "$T_DIR/c.json" --once --fresh-ledger > "$T_DIR/fresh2.log" 2>&1 || rc=$?
assert_eq 2 "$rc" "--fresh-ledger with a healthy ledger"
grep -q "healthy" "$T_DIR/fresh2.log" || fail "--fresh-ledger twice: $(cat "$T_DIR/fresh2.log")"

# Training before the first run (README's order) is no earlier use.
new_user
write_config "$T_DIR/c2.json" "sieve=$T_DIR/rules.sieve"
make_msg "$T_DIR/msgs/n1.eml" "From: b@example.org" "Subject: hi" >/dev/null
imap_append "$IMAP_USER" INBOX "$T_DIR/msgs/n1.eml" >/dev/null
"$MAILSIFT" train --ham -c "$T_DIR/c2.json" "$T_DIR/msgs/n1.eml" >/dev/null ||
	fail "train before the first run"
"$MAILSIFT" status -c "$T_DIR/c2.json" >/dev/null || fail "status before the first run"
"$MAILSIFT" run -c "$T_DIR/c2.json" --once || fail "first run after training"
assert_eq 1 "$(imap_count "$IMAP_USER" Archive)" "first run after training sorts"
echo ok
