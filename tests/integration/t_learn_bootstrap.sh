#!/usr/bin/env bash
# t_learn_bootstrap.sh - 'mailsift train -c CONFIG --from-folders' against
# real Dovecot: spam from Junk, ham from the watched folders, with a
# summary; a message flagged against its folder is skipped; a second run
# trains nothing (the ledger's training state).
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
mkdir -p "$T_DIR/msgs"
write_config "$T_DIR/c.json"
q() { ledger_sql "$state" "$1"; }
# "SPAM HAM": the numbers of messages the model was trained with.
counts() {
	"$MAILSIFT" score -c "$T_DIR/c.json" --json --explain "$T_DIR/msgs/s1.eml" \
		| grep -o '"trained_[a-z]*": *[0-9]*' | grep -o '[0-9]*$' \
		| paste -sd ' '
}

for i in 1 2 3; do
	make_msg "$T_DIR/msgs/s$i.eml" "From: promo$i@bulk.example" \
		"Subject: cheap pills $i" "body=Buy cheap pills now $i" >/dev/null
	imap_append "$u" Junk "$T_DIR/msgs/s$i.eml" >/dev/null
done
for i in 1 2 3 4; do
	make_msg "$T_DIR/msgs/h$i.eml" "From: colleague$i@work.example" \
		"Subject: notes $i" "body=Minutes of meeting $i." >/dev/null
	imap_append "$u" INBOX "$T_DIR/msgs/h$i.eml" \
		"$([ $i = 4 ] && echo '$Junk')" >/dev/null
done

out=$("$MAILSIFT" train -c "$T_DIR/c.json" --from-folders) \
	|| fail "train --from-folders failed: $out"
echo "$out"
assert_eq "trained 3 spam and 3 ham; 0 already trained so, 1 skipped" \
	"$out" "summary of the first run"
assert_eq "3 3" "$(counts)" "model after it"
assert_eq "3 3" "$(q "SELECT count(*) FROM corrections WHERE
	reason = 'bootstrap from Junk'") $(q "SELECT count(*) FROM corrections
	WHERE reason = 'bootstrap from INBOX'")" "corrections recorded"

out=$("$MAILSIFT" train -c "$T_DIR/c.json" --from-folders) \
	|| fail "second train --from-folders failed: $out"
assert_eq "trained 0 spam and 0 ham; 6 already trained so, 1 skipped" \
	"$out" "summary of the second run"
assert_eq "3 3" "$(counts)" "model after a rerun"
assert_eq 6 "$(q "SELECT count(*) FROM corrections")" "corrections after a rerun"
echo ok
