#!/usr/bin/env bash
# t_learn_rescue.sh - out of Junk = ham, against real Dovecot.  The daemon
# files spam into Junk (the owner's Sieve rule); a second IMAP client
# moves it back to INBOX, by MOVE and by COPY + EXPUNGE.  Within seconds
# the ledger records the correction, the model has changed (the message
# scores differently), the message carries $NotJunk instead of $Junk, and
# it stays in INBOX through further cycles and a restart, trained once.
# A message trained as ham by `train --from-folders`, then filed into
# Junk by the rule, keeps its training: the $Junk mailsift set is not
# the owner's.  `mailsift status` shows each rescue under the decision
# that filed the message into Junk, in text and --json, and nothing that
# happened before the decision.
# Prints the time from each move to the retraining and their median (a
# figure to read, not a limit: the waits allow a loaded machine a minute).
. "$(dirname "$0")/lib.sh"

learner_setup
imap_create "$u" Trash

corrections_are() { [ "$(q "SELECT count(*) FROM corrections")" = "$1" ]; }
score_of() { "$MAILSIFT" score --db "$state/tokens.db" "$1" | head -n 1; }

# A small background model, so that scores mean something.
train_background "$state/tokens.db" 4

bg_start "$T_DIR/d1.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID

latencies=()
# rescue N HOW: one spam filed by mailsift, moved back by another client.
rescue() {
	local n=$1 how=$2 f="$T_DIR/msgs/spam$1.eml" mid uid before after t0 t1
	mid=$(make_msg "$f" "From: prizes@lotto.example" \
		"Subject: WINNER $n of our lottery" \
		"body=Dear friend, you are WINNER number $n, claim the prize.")
	imap_append "$u" INBOX "$f" >/dev/null
	wait_until 60 in_box "$u" Junk "$mid"
	uid=$(imap_search "$u" Junk header message-id "$mid")
	case " $(imap_flags "$u" Junk "$uid") " in
	*' $Junk '*) ;;
	*) fail "spam $n in Junk lacks \$Junk: $(imap_flags "$u" Junk "$uid")" ;;
	esac
	before=$(score_of "$f")
	t0=$(now_ms)
	if [ "$how" = move ]; then
		imap_move "$u" Junk "$uid" INBOX
	else
		dadm copy -u "$u" INBOX mailbox Junk uid "$uid" \
			|| fail "doveadm copy failed"
		dadm expunge -u "$u" mailbox Junk uid "$uid" \
			|| fail "doveadm expunge failed"
	fi
	t1=$(now_ms)
	wait_until 60 corrections_are "$n"
	latencies+=( $(( $(q "SELECT max(time_ms) FROM corrections") - t1 )) )
	echo "rescue $n ($how): move took $((t1 - t0)) ms, retrained" \
		"${latencies[-1]} ms after it"
	assert_eq "ham|1|$mid" "$(q "SELECT trained, rescued, message_id FROM
		messages WHERE message_id = '$mid'")" "ledger row of spam $n"
	# mailsift files spam without training it: nothing to untrain.
	assert_eq "|ham|moved out of Junk by the owner" "$(q "SELECT
		c.old_trained, c.new_trained, c.reason
		FROM corrections c JOIN messages m ON m.id = c.message
		WHERE m.message_id = '$mid'")" "correction of spam $n"
	after=$(score_of "$f")
	[ "$before" != "$after" ] || fail "model unchanged by rescue $n: $after"
	echo "spam $n scored '$before' before the rescue, '$after' after"
	uid=$(imap_search "$u" INBOX header message-id "$mid")
	[ -n "$uid" ] || fail "rescued spam $n is not in INBOX"
	wait_until 60 flags_say "$u" INBOX "$uid"
}
in_box() { [ -n "$(imap_search "$1" "$2" header message-id "$3")" ]; }
flags_say() {
	local f=" $(imap_flags "$1" "$2" "$3") "
	[[ $f == *' $NotJunk '* && $f != *' $Junk '* ]]
}

rescue 1 move
rescue 2 copy
rescue 3 move
rescue 4 copy
rescue 5 move

# Further cycles (poll every second, IDLE on INBOX) change nothing.
daemon_passes "$state" "$pid" 3
assert_eq 5 "$(q "SELECT count(*) FROM corrections")" "corrections after cycles"
assert_eq 0 "$(imap_count "$u" Junk)" "Junk after cycles"
assert_eq 5 "$(imap_count "$u" INBOX)" "INBOX after cycles"
ham_before=$("$MAILSIFT" score --db "$state/tokens.db" --json --explain \
	"$T_DIR/msgs/spam1.eml" | grep -o '"trained_ham": *[0-9]*')

bg_stop "$pid" || fail "daemon exit status $? on SIGTERM: $(tail -5 "$T_DIR/d1.log")"
bg_start "$T_DIR/d2.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
daemon_passes "$state" "$pid" 3
assert_eq 5 "$(imap_count "$u" INBOX)" "INBOX after restart"
assert_eq 0 "$(imap_count "$u" Junk)" "Junk after restart"
assert_eq 5 "$(q "SELECT count(*) FROM corrections")" "corrections after restart"
assert_eq "$ham_before" "$("$MAILSIFT" score --db "$state/tokens.db" --json \
	--explain "$T_DIR/msgs/spam1.eml" | grep -o '"trained_ham": *[0-9]*')" \
	"trained ham after restart"
bg_stop "$pid" || fail "daemon exit status $?"

# Spam 6 was read in Archive and taught as ham by train --from-folders;
# the owner moves it to INBOX and the rule files it into Junk.  The $Junk
# mailsift puts on it is not the owner's opinion: it stays trained as ham
# (this failed: the keyword scan took it for a mail client's).  Rescued,
# it is marked so, and its training does not change.
mid=$(make_msg "$T_DIR/msgs/spam6.eml" "From: prizes@lotto.example" \
	"Subject: WINNER 6 of our lottery" "body=Dear friend, claim the prize.")
imap_append "$u" Archive "$T_DIR/msgs/spam6.eml" '\Seen' >/dev/null
"$MAILSIFT" train -c "$T_DIR/c.json" --from-folders --ham-folder Archive \
	|| fail "train --from-folders --ham-folder Archive failed"
imap_move "$u" Archive "$(imap_uids "$u" Archive)" INBOX
for pass in filing "keyword scan"; do
	"$MAILSIFT" run -c "$T_DIR/c.json" --once \
		|| fail "run --once ($pass) failed"
done
uid=$(imap_search "$u" Junk header message-id "$mid")
[ -n "$uid" ] || fail "the rule did not file spam 6 into Junk"
spam6() {
	q "SELECT m.trained, m.rescued, (SELECT group_concat(c.reason, ', ')
		FROM corrections c WHERE c.message = m.id)
		FROM messages m WHERE m.message_id = '$mid'"
}
assert_eq "ham|0|bootstrap from Archive" "$(spam6)" "spam 6 filed into Junk"
imap_move "$u" Junk "$uid" INBOX
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run --once (rescue) failed"
assert_eq "ham|1|bootstrap from Archive" "$(spam6)" "spam 6 rescued"

# status: each decision says what mailsift did and what the owner did
# next; spam 6's training from Archive came before its decision.
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.txt" \
	|| fail "status failed: $(cat "$T_DIR/status.txt")"
cat "$T_DIR/status.txt"
rescue_line="^    later, .*: moved out of Junk by the owner, in INBOX: trained as ham (was untrained)$"
assert_eq 5 "$(grep -c "$rescue_line" "$T_DIR/status.txt")" \
	"status: rescue lines of spam 1 to 5"
assert_eq 1 "$(grep -c "^    later: moved out of Junk by the owner (trained as ham already); never filed there again$" \
	"$T_DIR/status.txt")" "status: rescue line of spam 6"
assert_eq 0 "$(grep -c "^    later.*bootstrap" "$T_DIR/status.txt")" \
	"status: training before a decision shown after it"
# One such line under each decision into Junk.
awk '/^  #[0-9]+ /{ d=$1 } /^    later/{ print d }' "$T_DIR/status.txt" \
	| sort | uniq -c | awk '$1 != 1 { exit 1 }' \
	|| fail "status: a decision with more or less than one 'later' line"
"$MAILSIFT" status -c "$T_DIR/c.json" --json > "$T_DIR/status.json" \
	|| fail "status --json failed"
python3 - "$T_DIR/status.json" "$mid" <<'PY' || fail "status --json: see above"
import json, sys
d = json.load(open(sys.argv[1]))["decisions"]
junk = [x for x in d if x["dest_folder"] == "Junk"]
assert len(junk) == 6, "decisions into Junk: %d" % len(junk)
for x in junk:
    c = x["corrections_since"]
    assert x["rescued_from_junk"] is True, x
    if x["message_id"] == sys.argv[2]:
        assert c == [], x
        continue
    assert len(c) == 1 and c[0]["reason"] == "moved out of Junk by the owner" \
        and c[0]["folder"] == "INBOX" and c[0]["new_trained"] == "ham" \
        and c[0]["old_trained"] == "" and c[0]["time_ms"] > x["time_ms"], x
kept = [x for x in d if x["dest_folder"] != "Junk"]
assert all(x["corrections_since"] == [] and not x["rescued_from_junk"]
           for x in kept), kept
PY

sorted=$(printf '%s\n' "${latencies[@]}" | sort -n | paste -sd ' ')
median=$(printf '%s\n' "${latencies[@]}" | sort -n | awk '{a[NR]=$1}
	END { print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2 }')
echo "move -> retrain latency (ms): $sorted; median $median"
echo ok
