#!/usr/bin/env bash
# t_run_undo_race.sh - `mailsift undo` while the daemon runs, against real
# Dovecot: both see the message come back out of Junk.  Undo moves it and
# trains it at once; the daemon, IDLE on INBOX, sees a message last seen
# in Junk arrive about half a second later (Dovecot's IDLE delay) and must
# find it trained already.  Each undo gives one message in INBOX, one
# correction and one ham training in the model.
. "$(dirname "$0")/lib.sh"

learner_setup
train_background "$state/tokens.db" 4
trained_ham() {
	"$MAILSIFT" score --db "$state/tokens.db" --json --explain \
		"$T_DIR/msgs/bg-ham1.eml" | grep -o '"trained_ham": *[0-9]*' \
		| grep -o '[0-9]*$'
}
ham0=$(trained_ham)

bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
in_box() { [ -n "$(imap_search "$1" "$2" header message-id "$3")" ]; }
corrections_are() { [ "$(q "SELECT count(*) FROM corrections")" = "$1" ]; }
N=5
for n in $(seq 1 $N); do
	mid=$(make_msg "$T_DIR/msgs/spam$n.eml" "From: prizes@lotto.example" \
		"Subject: WINNER $n of our lottery" \
		"body=Dear friend, you are WINNER number $n, claim the prize.")
	imap_append "$u" INBOX "$T_DIR/msgs/spam$n.eml" >/dev/null
	wait_until 60 in_box "$u" Junk "$mid"
	id=$(q "SELECT d.id FROM decisions d JOIN messages m ON
		m.id = d.message WHERE m.message_id = '$mid'
		AND d.dest_folder = 'Junk'")
	"$MAILSIFT" undo -c "$T_DIR/c.json" "$id" > "$T_DIR/undo$n.out" 2>&1 \
		|| fail "undo $n: $(cat "$T_DIR/undo$n.out")"
	wait_until 60 corrections_are "$n"
done
# The daemon has seen every message come back (known, not sorted again),
# and looked at INBOX, Junk and the keywords once more since.
known_are() { [ "$(status_get "$state" totals known)" -ge "$1" ]; }
wait_until 60 known_are "$N"
daemon_passes "$state" "$pid" 3
bg_stop "$pid" || fail "daemon exit status $?: $(tail -5 "$T_DIR/d.log")"

assert_eq "$N" "$(q "SELECT count(*) FROM corrections")" "corrections"
assert_eq "$N" "$(q "SELECT count(*) FROM messages WHERE trained = 'ham'
	AND rescued = 1")" "rescued messages trained as ham"
assert_eq "$N" "$(imap_count "$u" INBOX)" "INBOX"
assert_eq 0 "$(imap_count "$u" Junk)" "Junk"
assert_eq "$((ham0 + N))" "$(trained_ham)" "ham trainings in the model"
assert_eq 0 "$(grep -c 'trained as ham' "$T_DIR/d.log")" \
	"trainings by the daemon"
echo ok
