#!/usr/bin/env bash
# t_learn_flipflop.sh - the owner changes their mind, against real
# Dovecot: into Junk, out, in again, then $NotJunk and $Junk in Junk.  The
# last opinion wins and the model holds it exactly once: its counts and
# the message's full-precision score equal those after the first spam
# opinion, and untraining that one spam copy gives back the model from
# before any opinion.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
mkdir -p "$state" "$T_DIR/msgs"
write_config "$T_DIR/c.json" poll_interval=1
imap_create "$u" Junk

q() { ledger_sql "$state" "$1"; }
count_sql() { [ "$(q "$1")" = "$2" ]; }
# The model as seen through one message: trained counts and exact score.
model() {
	local j
	j=$("$MAILSIFT" score --db "$state/tokens.db" --json --explain \
		"$T_DIR/msgs/x.eml") || fail "mailsift score failed"
	printf '%s %s\n' "$(grep -o '"score": *[0-9.e-]*' <<<"$j")" \
		"$(grep -o '"trained_[a-z]*": *[0-9]*' <<<"$j" | paste -sd ' ')"
}
uid_in() { imap_search "$u" "$1" header message-id "$mid"; }

train_background "$state/tokens.db" 3

bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
mid=$(make_msg "$T_DIR/msgs/x.eml" "From: shop@garden.example" \
	"Subject: spring catalogue" "body=Our spring catalogue with new seeds.")
imap_append "$u" INBOX "$T_DIR/msgs/x.eml" >/dev/null
wait_until 10 count_sql "SELECT count(*) FROM decisions WHERE state = 'done'" 1
base=$(model)

step() {	# step N WANT: wait for the Nth correction, check the training
	wait_until 10 count_sql "SELECT count(*) FROM corrections" "$1"
	assert_eq "$2" "$(q "SELECT trained FROM messages
		WHERE message_id = '$mid'")" "training after step $1"
}
imap_move "$u" INBOX "$(uid_in INBOX)" Junk
step 1 spam
as_spam=$(model)
[ "$as_spam" != "$base" ] || fail "model unchanged by the first opinion"
imap_move "$u" Junk "$(uid_in Junk)" INBOX
step 2 ham
imap_move "$u" INBOX "$(uid_in INBOX)" Junk
step 3 spam
assert_eq "$as_spam" "$(model)" "model after spam, ham, spam"
dadm flags add -u "$u" '$NotJunk' mailbox Junk uid "$(uid_in Junk)" \
	&& dadm flags remove -u "$u" '$Junk' mailbox Junk uid "$(uid_in Junk)" \
	|| fail "doveadm flags failed"
step 4 ham
dadm flags add -u "$u" '$Junk' mailbox Junk uid "$(uid_in Junk)" \
	&& dadm flags remove -u "$u" '$NotJunk' mailbox Junk uid "$(uid_in Junk)" \
	|| fail "doveadm flags failed"
step 5 spam
sleep 3
assert_eq 5 "$(q "SELECT count(*) FROM corrections")" "corrections at the end"
assert_eq "$as_spam" "$(model)" "model after five opinions"
assert_eq ">spam spam>ham ham>spam spam>ham ham>spam" "$(q "SELECT
	group_concat(old_trained || '>' || new_trained, ' ') FROM
	(SELECT * FROM corrections ORDER BY id)")" "history of corrections"
bg_stop "$pid" || fail "daemon exit status $?"

"$MAILSIFT" untrain --spam --db "$state/tokens.db" "$T_DIR/msgs/x.eml" \
	>/dev/null || fail "untrain failed"
assert_eq "$base" "$(model)" "model after untraining the one spam copy"
echo ok
