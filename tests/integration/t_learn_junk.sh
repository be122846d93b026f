#!/usr/bin/env bash
# t_learn_junk.sh - into Junk = spam, Trash = no opinion, against real
# Dovecot.  Mail the daemon kept in INBOX is dragged into Junk by another
# client: it is trained as spam once and tagged $Junk; so is mail dragged
# into Junk from a folder mailsift does not watch.  Deleting from
# Junk into Trash trains nothing, neither for those messages nor for spam
# mailsift filed there itself.  Prints the time from each drag to the
# retraining (Junk is looked at every poll_interval: 1 s here).
. "$(dirname "$0")/lib.sh"

learner_setup
imap_create "$u" Trash
count_sql() { [ "$(q "$1")" = "$2" ]; }
score_of() { "$MAILSIFT" score --db "$state/tokens.db" "$1" | head -n 1; }
in_box() { [ -n "$(imap_search "$1" "$2" header message-id "$3")" ]; }
has_flag() { [[ " $(imap_flags "$1" "$2" "$3") " == *" $4 "* ]]; }

train_background "$state/tokens.db" 4

bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID

latencies=()
mids=()
for n in 1 2 3; do
	f=$T_DIR/msgs/ham$n.eml
	mid=$(make_msg "$f" "From: newsletter$n@shop.example" \
		"Subject: weekly offers $n" \
		"body=Our weekly newsletter number $n with garden furniture.")
	mids+=("$mid")
	imap_append "$u" INBOX "$f" >/dev/null
	# Kept in INBOX by the daemon (a decision is recorded).
	wait_until 10 count_sql "SELECT count(*) FROM decisions d JOIN
		messages m ON m.id = d.message WHERE m.message_id = '$mid'
		AND d.state = 'done'" 1
	in_box "$u" INBOX "$mid" || fail "ham $n was not kept in INBOX"
	before=$(score_of "$f")
	uid=$(imap_search "$u" INBOX header message-id "$mid")
	imap_move "$u" INBOX "$uid" Junk
	t1=$(now_ms)
	wait_until 10 count_sql "SELECT count(*) FROM corrections" "$n"
	latencies+=( $(( $(q "SELECT max(time_ms) FROM corrections") - t1 )) )
	echo "drag $n into Junk: retrained ${latencies[-1]} ms after it"
	assert_eq "spam|moved into Junk by the owner" "$(q "SELECT m.trained,
		c.reason FROM corrections c JOIN messages m ON m.id = c.message
		WHERE m.message_id = '$mid'")" "ledger of ham $n"
	after=$(score_of "$f")
	[ "$before" != "$after" ] || fail "model unchanged by drag $n: $after"
	echo "message $n scored '$before' before, '$after' after"
	uid=$(imap_search "$u" Junk header message-id "$mid")
	wait_until 5 has_flag "$u" Junk "$uid" '$Junk'
done

# From a folder mailsift does not watch, nothing wakes the IDLE on INBOX:
# Junk is looked at every poll_interval (1 s here).
poll_latencies=()
for n in 4 5 6; do
	f=$T_DIR/msgs/ham$n.eml
	mid=$(make_msg "$f" "From: archive$n@old.example" "Subject: old $n" \
		"body=An old message number $n from the archive.")
	mids+=("$mid")
	uid=$(imap_append "$u" Archive "$f")
	imap_move "$u" Archive "$uid" Junk
	t1=$(now_ms)
	wait_until 10 count_sql "SELECT count(*) FROM corrections" "$n"
	poll_latencies+=( $(( $(q "SELECT max(time_ms) FROM corrections") - t1 )) )
	sleep 0.$((RANDOM % 10))	# land at different points of the poll
done

# Spam that mailsift filed itself.
smid=$(make_msg "$T_DIR/msgs/spam.eml" "From: prizes@lotto.example" \
	"Subject: WINNER of the lottery" "body=Claim your prize, WINNER.")
imap_append "$u" INBOX "$T_DIR/msgs/spam.eml" >/dev/null
wait_until 10 in_box "$u" Junk "$smid"
sleep 2
model=$("$MAILSIFT" score --db "$state/tokens.db" --json --explain \
	"$T_DIR/msgs/ham1.eml" | grep -o '"trained_[a-z]*": *[0-9]*' | paste -sd ' ')
s1=$(score_of "$T_DIR/msgs/ham1.eml")

# The owner deletes everything in Junk: Trash is no opinion.
for uid in $(imap_uids "$u" Junk); do
	imap_move "$u" Junk "$uid" Trash
done
sleep 4
assert_eq 7 "$(imap_count "$u" Trash)" "messages in Trash"
assert_eq 6 "$(q "SELECT count(*) FROM corrections")" "corrections after Trash"
assert_eq "spam spam spam spam spam spam" "$(for m in "${mids[@]}"; do q "SELECT trained
	FROM messages WHERE message_id = '$m'"; done | paste -sd ' ')" \
	"training after Trash"
assert_eq "" "$(q "SELECT trained FROM messages WHERE message_id = '$smid'")" \
	"mailsift's own spam stays untrained"
assert_eq "$model" "$("$MAILSIFT" score --db "$state/tokens.db" --json \
	--explain "$T_DIR/msgs/ham1.eml" | grep -o '"trained_[a-z]*": *[0-9]*' \
	| paste -sd ' ')" "trained counts after Trash"
assert_eq "$s1" "$(score_of "$T_DIR/msgs/ham1.eml")" "score after Trash"
bg_stop "$pid" || fail "daemon exit status $?"

sorted=$(printf '%s\n' "${latencies[@]}" | sort -n | paste -sd ' ')
echo "drag into Junk -> retrain latency (ms): $sorted; median" \
	"$(printf '%s\n' "${latencies[@]}" | sort -n | sed -n 2p)"
echo "drag from an unwatched folder -> retrain latency (ms):" \
	"$(printf '%s\n' "${poll_latencies[@]}" | sort -n | paste -sd ' ')"
echo ok
