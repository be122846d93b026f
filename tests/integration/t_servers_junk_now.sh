#!/usr/bin/env bash
# t_servers_junk_now.sh - a drag into Junk is learned at once, not when
# poll_interval (an hour here) comes round, on the suite's other servers,
# none of which offers NOTIFY: mailsift watches Junk over a second
# connection.  Cyrus 3.6 (IDLE instant through idled), Courier-IMAP 5
# (IDLE looks at the folder every 2 s; no MOVE: the drag is a COPY, a
# \Deleted and an EXPUNGE; Junk is INBOX.Junk on the wire) and Dovecot
# posing as a small server (127.0.0.4: Courier's namespace, no MOVE, no
# NOTIFY).  Two drags each, from a folder nothing else watches.  Prints each
# drag's time to training.
# servers: cyrus courier
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/servers.sh"

# One server: a daemon with poll_interval an hour, two drags.
junk_now() {
	local srv=$1 n uid mid t1 f state
	srv_use "$srv"
	srv_new_user
	u=$IMAP_USER
	state=$T_DIR/state-$srv-$u
	mkdir -p "$state" "$T_DIR/msgs"
	q() { ledger_sql "$state" "$1"; }
	corrections_are() { [ "$(q "SELECT count(*) FROM corrections")" = "$1" ]; }
	# (Cyrus makes Junk with every INBOX.)
	sx create Junk 2>/dev/null || true
	sx create Archive
	srv_config "$T_DIR/$srv.json" poll_interval=3600 timeout=10 \
		"state_dir=$state"
	bg_start "$T_DIR/d-$srv.log" "$MAILSIFT" run -c "$T_DIR/$srv.json" -v
	wait_until 30 grep -q "watching 'Junk' over a second connection" \
		"$T_DIR/d-$srv.log"
	for n in 1 2; do
		f=$T_DIR/msgs/$srv-$n.eml
		mid=$(make_msg "$f" "From: old$n@archive.example" \
			"Subject: old $n" "body=An old message $n.")
		uid=$(sx append Archive "$f")
		sleep 1		# not one event with the append
		sx move Archive "$uid" Junk
		t1=$(now_ms)
		wait_until 30 corrections_are "$n"
		echo "$srv: drag $n into Junk trained" \
			"$(( $(q "SELECT max(time_ms) FROM corrections") - t1 )) ms after it"
		[ "$(q "SELECT m.trained FROM messages m WHERE
			m.message_id = '$mid'")" = spam ] \
			|| fail "$srv: drag $n not trained as spam"
	done
	bg_stop "$BG_PID" || fail "$srv: daemon exit status $?"
}

ran=0
for srv in dovecot-quirks cyrus courier; do
	rc=0
	( junk_now "$srv" ) || rc=$?
	case $rc in
	0) ran=$((ran + 1)) ;;
	77) echo "$srv: skipped" ;;
	*) fail "$srv: a drag into Junk was not learned at once" \
		"(daemon log: $(tail -n 5 "$T_DIR/d-$srv.log" 2>/dev/null))" ;;
	esac
done
echo ok
