#!/usr/bin/env bash
# t_learn_uidvalidity.sh - a server that renumbers its folders (new
# UIDVALIDITY for INBOX and Junk) makes mailsift look at every message
# again, against real Dovecot: nothing is trained twice, nothing refiled,
# no correction repeated.
. "$(dirname "$0")/lib.sh"

learner_setup
count_sql() { [ "$(q "$1")" = "$2" ]; }
in_box() { [ -n "$(imap_search "$1" "$2" header message-id "$3")" ]; }
model() {
	"$MAILSIFT" score --db "$state/tokens.db" --json --explain "$1" \
		| grep -o '"score": *[0-9.e-]*\|"trained_[a-z]*": *[0-9]*' \
		| paste -sd ' '
}
uidvalidity() {
	dadm -f tab mailbox status -u "$u" uidvalidity "$1" \
		| awk -F '\t' 'END { print $NF }'
}

bg_start "$T_DIR/d1.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
# A rescue, a drag into Junk and a keyword: three corrections.
smid=$(make_msg "$T_DIR/msgs/spam.eml" "From: prizes@lotto.example" \
	"Subject: WINNER of the lottery" "body=Claim your prize, WINNER.")
h1=$(make_msg "$T_DIR/msgs/h1.eml" "From: shop@garden.example" \
	"Subject: spring catalogue" "body=Our spring catalogue with seeds.")
h2=$(make_msg "$T_DIR/msgs/h2.eml" "From: friend@home.example" \
	"Subject: hiking" "body=Hiking on Sunday? Bring water.")
imap_append "$u" INBOX "$T_DIR/msgs/spam.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/msgs/h1.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/msgs/h2.eml" >/dev/null
wait_until 10 in_box "$u" Junk "$smid"
wait_until 10 count_sql "SELECT count(*) FROM decisions WHERE state = 'done'" 3
imap_move "$u" Junk "$(imap_search "$u" Junk header message-id "$smid")" INBOX
wait_until 10 count_sql "SELECT count(*) FROM corrections" 1
imap_move "$u" INBOX "$(imap_search "$u" INBOX header message-id "$h1")" Junk
wait_until 10 count_sql "SELECT count(*) FROM corrections" 2
dadm flags add -u "$u" '$NotJunk' mailbox INBOX \
	uid "$(imap_search "$u" INBOX header message-id "$h2")" \
	|| fail "doveadm flags add failed"
wait_until 10 count_sql "SELECT count(*) FROM corrections" 3
sleep 2
bg_stop "$pid" || fail "daemon exit status $? on SIGTERM"
before=$(model "$T_DIR/msgs/h1.eml")
trained=$(q "SELECT group_concat(trained, ' ') FROM (SELECT trained FROM
	messages ORDER BY id)")

# Dovecot renumbers a Maildir whose uidlist and indexes are gone.
old_inbox=$(uidvalidity INBOX) old_junk=$(uidvalidity Junk)
sleep 1		# UIDVALIDITY is a time in seconds
maildir=$DOVECOT_DIR/mail/$u/Maildir
rm -f "$maildir"/dovecot-uidlist "$maildir"/dovecot.index* \
	"$maildir"/.Junk/dovecot-uidlist "$maildir"/.Junk/dovecot.index*
imap_kick "$u"
[ "$(uidvalidity INBOX)" != "$old_inbox" ] || fail "INBOX was not renumbered"
[ "$(uidvalidity Junk)" != "$old_junk" ] || fail "Junk was not renumbered"

bg_start "$T_DIR/d2.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
wait_until 10 grep -q "UIDVALIDITY changed" "$T_DIR/d2.log"
sleep 4
bg_stop "$pid" || fail "daemon exit status $?"
grep "UIDVALIDITY" "$T_DIR/d2.log"
assert_eq 3 "$(q "SELECT count(*) FROM corrections")" "corrections after renumbering"
assert_eq "$trained" "$(q "SELECT group_concat(trained, ' ') FROM (SELECT
	trained FROM messages ORDER BY id)")" "training after renumbering"
assert_eq "$before" "$(model "$T_DIR/msgs/h1.eml")" "model after renumbering"
assert_eq 2 "$(imap_count "$u" INBOX)" "INBOX after renumbering"
assert_eq 1 "$(imap_count "$u" Junk)" "Junk after renumbering"
echo ok
