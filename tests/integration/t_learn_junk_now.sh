#!/usr/bin/env bash
# t_learn_junk_now.sh - a message the owner drags into Junk is learned at
# once, not when poll_interval (an hour here) comes round: over NOTIFY on
# the daemon's own connection (127.0.0.1 offers it), and over a second
# connection that IDLEs on Junk (127.0.0.5 does not offer NOTIFY).  Drags
# come from INBOX (whose IDLE wakes the daemon anyway) and from a folder
# nothing watches.  With imap.junk_idle off there is no second connection.
# Prints each drag's time to training.
. "$(dirname "$0")/lib.sh"

count_sql() { [ "$(q "$1")" = "$2" ]; }
decided() {
	count_sql "SELECT count(*) FROM decisions d JOIN messages m ON
		m.id = d.message WHERE m.message_id = '$1' AND d.state = 'done'" 1
}
connections() {	# USER: IMAP sessions Dovecot has for them
	dadm who -1 "$1" 2>/dev/null | awk -v u="$1" '$1 == u' | wc -l
}
connections_are() { [ "$(connections "$1")" = "$2" ]; }

# Starts the daemon for $u (pid in $pid) on HOST, more config in the
# other arguments, and waits until it kept a first message ($mid) in
# INBOX: it has looked at Junk once and waits.
start_daemon() {	# NAME HOST [KEY=VALUE...]
	local name=$1 host=$2
	shift 2
	write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" \
		poll_interval=3600 "host=$host" "$@"
	bg_start "$T_DIR/d-$name.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
	pid=$BG_PID
	mid=$(make_msg "$T_DIR/msgs/keep-$name.eml" "From: news@shop.example" \
		"Subject: offers $name" "body=Weekly offers on garden furniture.")
	imap_append "$u" INBOX "$T_DIR/msgs/keep-$name.eml" >/dev/null
	wait_until 20 decided "$mid"
}

for mode in notify second; do
	learner_setup
	imap_create "$u" Archive
	host=$IMAP_HOST
	[ $mode = second ] && host=$IMAP_HOST_NONOTIFY
	start_daemon $mode "$host"
	want=1
	[ $mode = second ] && want=2
	wait_until 20 connections_are "$u" $want
	n=0
	for from in INBOX Archive INBOX Archive; do
		n=$((n + 1))
		if [ $from = INBOX ]; then
			uid=$(imap_search "$u" INBOX header message-id "$mid")
		else
			f=$T_DIR/msgs/old-$mode-$n.eml
			make_msg "$f" "From: old$n@archive.example" \
				"Subject: old $n" "body=Old message $n." >/dev/null
			uid=$(imap_append "$u" Archive "$f")
			sleep 1	# not one event with the append
		fi
		imap_move "$u" $from "$uid" Junk
		t1=$(now_ms)
		wait_until 20 count_sql "SELECT count(*) FROM corrections" $n
		echo "$mode: drag $n from $from into Junk trained" \
			"$(( $(q "SELECT max(time_ms) FROM corrections") - t1 )) ms after it"
		if [ $from = INBOX ]; then
			# Back to INBOX for the next round: a rescue.
			uid=$(imap_search "$u" Junk header message-id "$mid")
			imap_move "$u" Junk "$uid" INBOX
			n=$((n + 1))
			wait_until 20 count_sql "SELECT count(*) FROM corrections" $n
		fi
	done
	bg_stop "$pid" || fail "$mode: daemon exit status $?"
	if [ $mode = second ]; then
		grep -q "watching 'Junk' over a second connection" "$T_DIR/d-$mode.log" \
			|| fail "no second connection: $(cat "$T_DIR/d-$mode.log")"
	else
		grep -q "watching 'Junk' with NOTIFY" "$T_DIR/d-$mode.log" \
			|| fail "NOTIFY not used: $(cat "$T_DIR/d-$mode.log")"
	fi
done

# imap.junk_idle off: one connection only, Junk polled.
start_daemon off "$IMAP_HOST_NONOTIFY" imap.junk_idle=false
assert_eq 1 "$(connections "$u")" "connections with junk_idle off"
bg_stop "$pid" || fail "junk_idle off: daemon exit status $?"
echo ok
