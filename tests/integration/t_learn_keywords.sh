#!/usr/bin/env bash
# t_learn_keywords.sh - keywords set by a mail client, against real
# Dovecot: $NotJunk (and Thunderbird's NonJunk) trains ham, $Junk trains
# spam, each once, through further cycles and a restart; both at once is
# no opinion.  Prints the time from each keyword change to the retraining.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
mkdir -p "$state" "$T_DIR/msgs"
write_config "$T_DIR/c.json" poll_interval=1
imap_create "$u" Junk

q() { ledger_sql "$state" "$1"; }
count_sql() { [ "$(q "$1")" = "$2" ]; }
model() {
	"$MAILSIFT" score --db "$state/tokens.db" --json --explain "$1" \
		| grep -o '"trained_[a-z]*": *[0-9]*' | paste -sd ' '
}

train_background "$state/tokens.db" 3

bg_start "$T_DIR/d1.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID

# Four messages, kept in INBOX by the daemon.
declare -A mid uid
for k in notjunk nonjunk junk both; do
	mid[$k]=$(make_msg "$T_DIR/msgs/$k.eml" "From: someone@$k.example" \
		"Subject: about $k" "body=A message about $k and nothing else.")
	imap_append "$u" INBOX "$T_DIR/msgs/$k.eml" >/dev/null
done
wait_until 10 count_sql "SELECT count(*) FROM decisions WHERE state = 'done'" 4
for k in notjunk nonjunk junk both; do
	uid[$k]=$(imap_search "$u" INBOX header message-id "${mid[$k]}")
	[ -n "${uid[$k]}" ] || fail "message $k was not kept in INBOX"
done

latencies=()
# keyword KEY FLAGS TRAINED N: another client sets FLAGS on message KEY.
keyword() {
	local k=$1 flags=$2 want=$3 n=$4 before t1
	before=$(model "$T_DIR/msgs/$k.eml")
	dadm flags add -u "$u" "$flags" mailbox INBOX uid "${uid[$k]}" \
		|| fail "doveadm flags add failed"
	t1=$(now_ms)
	wait_until 10 count_sql "SELECT count(*) FROM corrections" "$n"
	latencies+=( $(( $(q "SELECT max(time_ms) FROM corrections") - t1 )) )
	echo "$flags: retrained ${latencies[-1]} ms after it was set"
	assert_eq "$want" "$(q "SELECT trained FROM messages
		WHERE message_id = '${mid[$k]}'")" "training after $flags"
	[ "$before" != "$(model "$T_DIR/msgs/$k.eml")" ] \
		|| fail "model unchanged by $flags"
}
keyword notjunk '$NotJunk' ham 1
keyword nonjunk 'NonJunk' ham 2
keyword junk '$Junk' spam 3
dadm flags add -u "$u" '$Junk $NotJunk' mailbox INBOX uid "${uid[both]}" \
	|| fail "doveadm flags add failed"
counts=$(model "$T_DIR/msgs/notjunk.eml")

# Further cycles and a restart: nothing trains again.
sleep 4
bg_stop "$pid" || fail "daemon exit status $? on SIGTERM"
bg_start "$T_DIR/d2.log" "$MAILSIFT" run -c "$T_DIR/c.json" \
	--log-level debug
pid=$BG_PID
sleep 4
bg_stop "$pid" || fail "daemon exit status $?"
# Polling every second for 4 s, the flags of INBOX and Junk are read at
# most once each (without CONDSTORE: four times): Dovecot's HIGHESTMODSEQ
# says nothing changed since the last look.
grep -q "CONDSTORE yes" "$T_DIR/d2.log" || fail "no CONDSTORE: $(head "$T_DIR/d2.log")"
# Flag changes by other clients arrive during IDLE with their MODSEQ:
# libetpan must read them without losing the connection.
assert_eq 1 "$(grep -c 'connected to ' "$T_DIR/d1.log")" \
	"connections of the first daemon"
scans=$(grep -c 'UID FETCH 1:\* (UID FLAGS)' "$T_DIR/d2.log")
[ "$scans" -le 2 ] || fail "$scans flag scans of unchanged folders"
echo "flag scans in 4 s of polling: $scans"
assert_eq 3 "$(q "SELECT count(*) FROM corrections")" "corrections at the end"
assert_eq "" "$(q "SELECT trained FROM messages
	WHERE message_id = '${mid[both]}'")" "\$Junk and \$NotJunk together"
assert_eq "$counts" "$(model "$T_DIR/msgs/notjunk.eml")" "model at the end"
assert_eq 4 "$(imap_count "$u" INBOX)" "INBOX at the end"

echo "keyword -> retrain latency (ms): $(printf '%s\n' "${latencies[@]}" \
	| sort -n | paste -sd ' '); median $(printf '%s\n' "${latencies[@]}" \
	| sort -n | sed -n 2p)"
echo ok
