#!/usr/bin/env bash
# t_learn_rescue_elsewhere.sh - out of Junk into a folder mailsift does not
# watch is a rescue too, against real Dovecot: the daemon files spam into
# Junk; another client moves it to Archive (there from the start), then,
# after the owner drags it back into Junk, to a folder made after the
# daemon started.  Each time the ledger records the correction within the
# poll interval and the message carries $NotJunk; mail that was in Archive
# before is never read.
. "$(dirname "$0")/lib.sh"

learner_setup
imap_create "$u" Archive

corrections_are() { [ "$(q "SELECT count(*) FROM corrections")" = "$1" ]; }
trained_is() {
	[ "$(q "SELECT trained FROM messages WHERE message_id = '$1'")" = "$2" ]
}
flags_say() {
	local f=" $(imap_flags "$1" "$2" "$3") "
	[[ $f == *' $NotJunk '* && $f != *' $Junk '* ]]
}

train_background "$state/tokens.db" 4
old=$(make_msg "$T_DIR/msgs/old.eml" "From: colleague@work.example" \
	"Subject: minutes" "body=The minutes of the meeting.")
imap_append "$u" Archive "$T_DIR/msgs/old.eml" >/dev/null

bg_start "$T_DIR/d1.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
mid=$(make_msg "$T_DIR/msgs/spam.eml" "From: prizes@lotto.example" \
	"Subject: WINNER of our lottery" \
	"body=Dear friend, you are our WINNER, claim the prize.")
imap_append "$u" INBOX "$T_DIR/msgs/spam.eml" >/dev/null
in_box() { [ -n "$(imap_search "$1" "$2" header message-id "$3")" ]; }
wait_until 10 in_box "$u" Junk "$mid"

imap_move "$u" Junk "$(imap_search "$u" Junk header message-id "$mid")" \
	Archive
wait_until 10 corrections_are 1
assert_eq "ham|1" "$(q "SELECT trained, rescued FROM messages
	WHERE message_id = '$mid'")" "ledger row after the move to Archive"
wait_until 5 flags_say "$u" Archive \
	"$(imap_search "$u" Archive header message-id "$mid")"

imap_move "$u" Archive "$(imap_search "$u" Archive header message-id \
	"$mid")" Junk
wait_until 10 trained_is "$mid" spam
imap_create "$u" Keep
imap_move "$u" Junk "$(imap_search "$u" Junk header message-id "$mid")" \
	Keep
wait_until 10 trained_is "$mid" ham
assert_eq 3 "$(q "SELECT count(*) FROM corrections")" "corrections"
assert_eq 0 "$(q "SELECT count(*) FROM messages
	WHERE message_id = '$old'")" "ledger rows of the old Archive mail"
sleep 3
assert_eq 3 "$(q "SELECT count(*) FROM corrections")" "corrections later"
bg_stop "$pid" || fail "daemon exit status $?: $(tail -5 "$T_DIR/d1.log")"

# While nothing leaves Junk the other mailboxes are not looked at: a new
# daemon sweeps twice after its start, then no more.
bg_start "$T_DIR/d2.log" "$MAILSIFT" run -c "$T_DIR/c.json" \
	--log-level debug
pid=$BG_PID
sleep 5
bg_stop "$pid" || fail "daemon exit status $?: $(tail -5 "$T_DIR/d2.log")"
sweeps=$(grep -c 'EXAMINE Archive' "$T_DIR/d2.log")
echo "sweeps in 5 s of polling every second: $sweeps"
[ "$sweeps" -le 2 ] || fail "$sweeps sweeps while Junk lost nothing"
echo ok
