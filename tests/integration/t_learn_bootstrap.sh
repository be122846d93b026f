#!/usr/bin/env bash
# t_learn_bootstrap.sh - 'mailsift train -c CONFIG --from-folders' against
# real Dovecot: spam from Junk (read or not), ham from the read mail of the
# watched folders, with a summary; a message flagged against its folder is
# skipped; an unread message in INBOX (here: spam the new user has not
# got to yet) is not learned as ham, and the summary says why; a second
# run trains nothing (the ledger's training state) but what was read
# since; --include-unread learns the rest as ham.
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

# Junk: one read, two unread: all spam, the owner or the server put them
# there.
for i in 1 2 3; do
	make_msg "$T_DIR/msgs/s$i.eml" "From: promo$i@bulk.example" \
		"Subject: cheap pills $i" "body=Buy cheap pills now $i" >/dev/null
	imap_append "$u" Junk "$T_DIR/msgs/s$i.eml" \
		"$([ $i = 1 ] && echo '\Seen')" >/dev/null
done
# INBOX: three read, one read but flagged $Junk by the owner, and two
# unread, spam among them.
for i in 1 2 3 4; do
	make_msg "$T_DIR/msgs/h$i.eml" "From: colleague$i@work.example" \
		"Subject: notes $i" "body=Minutes of meeting $i." >/dev/null
	imap_append "$u" INBOX "$T_DIR/msgs/h$i.eml" \
		"\\Seen$([ $i = 4 ] && echo ' $Junk')" >/dev/null
done
make_msg "$T_DIR/msgs/unread-spam.eml" "From: promo9@bulk.example" \
	"Subject: cheap pills 9" "body=Buy cheap pills now 9" >/dev/null
spam_uid=$(imap_append "$u" INBOX "$T_DIR/msgs/unread-spam.eml")
make_msg "$T_DIR/msgs/unread-ham.eml" "From: colleague5@work.example" \
	"Subject: notes 5" "body=Minutes of meeting 5." >/dev/null
ham_uid=$(imap_append "$u" INBOX "$T_DIR/msgs/unread-ham.eml")

out=$("$MAILSIFT" train -c "$T_DIR/c.json" --from-folders) \
	|| fail "train --from-folders failed: $out"
echo "$out"
assert_eq "trained 3 spam and 3 ham; 0 already trained so, 1 skipped, 2 unread left out" \
	"$(head -n 1 <<<"$out")" "summary of the first run"
grep -q "2 unread messages of the ham folders were not learned as ham" <<<"$out" &&
	grep -q -- "--include-unread" <<<"$out" ||
	fail "the first run does not say why unread mail was left out: $out"
assert_eq "3 3" "$(counts)" "model after it: the unread spam is not ham"
assert_eq "3 3" "$(q "SELECT count(*) FROM corrections WHERE
	reason = 'bootstrap from Junk'") $(q "SELECT count(*) FROM corrections
	WHERE reason = 'bootstrap from INBOX'")" "corrections recorded"
assert_eq " " "$(imap_flags "$u" INBOX "$ham_uid") $(imap_flags "$u" INBOX "$spam_uid")" \
	"the unread messages stay unread"

# The owner reads one of them; the next run learns it and nothing else.
dadm flags add -u "$u" '\Seen' mailbox INBOX uid "$ham_uid" \
	|| fail "cannot mark uid $ham_uid read"
out=$("$MAILSIFT" train -c "$T_DIR/c.json" --from-folders) \
	|| fail "second train --from-folders failed: $out"
echo "$out"
assert_eq "trained 0 spam and 1 ham; 6 already trained so, 1 skipped, 1 unread left out" \
	"$(head -n 1 <<<"$out")" "summary of the second run"
grep -q "^1 unread message of the ham folders was not learned" <<<"$out" ||
	fail "the second run does not say why: $out"
assert_eq "3 4" "$(counts)" "model after a rerun"
assert_eq 7 "$(q "SELECT count(*) FROM corrections")" "corrections after a rerun"

# --include-unread: the owner says the unread mail is ham as it is.
out=$("$MAILSIFT" train -c "$T_DIR/c.json" --from-folders --include-unread) \
	|| fail "train --from-folders --include-unread failed: $out"
echo "$out"
assert_eq "trained 0 spam and 1 ham; 7 already trained so, 1 skipped, 0 unread left out" \
	"$out" "summary with --include-unread"
assert_eq "3 5" "$(counts)" "model after --include-unread"
rc=0; "$MAILSIFT" train -c "$T_DIR/c.json" --include-unread >/dev/null 2>&1 || rc=$?
assert_eq 2 "$rc" "--include-unread without --from-folders"
echo ok
