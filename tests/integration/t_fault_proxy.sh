#!/usr/bin/env bash
# t_fault_proxy.sh - the daemon behind tests/integration/faultproxy.py,
# which breaks its first connection to the real Dovecot in one way per
# case: closed or reset in the greeting, at LOGIN, at SELECT, in the middle
# of a FETCH literal, around a MOVE (before the server got it, and after
# the server did it but before the answer came back), during IDLE; a
# stalled, a trickling and a silently dropped connection; an absurd
# literal; and over implicit TLS (the proxy forwards bytes, mailsift still
# verifies Dovecot's certificate) closed, reset or stalled at byte offsets.
# For each: the failure is logged with what was going on, the daemon
# reconnects (later connections pass), and every message ends in the
# right place exactly once: two tickets filed, one message kept, nothing
# left \Deleted.  The cases run side by side, each with its own user,
# proxy and daemon.
. "$(dirname "$0")/lib.sh"

cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "ticket" { fileinto "Tickets"; }
SIEVE

# A message with a body of about 12 KB, so that literals can be cut.
big_msg() {
	local file=$1; shift
	make_msg "$file" "$@" >/dev/null
	yes "filler line to make the FETCH literal long enough to be cut" |
		head -200 | sed 's/$/\r/' >> "$file"
}

# case NAME TLS EXPECT SPEC: starts one case; EXPECT is what its log must
# say about the failure.
names=()
declare -A expect user pid idle
case_start() {
	local name=$1 tls=$2 want=$3 spec=$4 target=$IMAP_PORT u
	local -a conf=()
	new_user
	u=$IMAP_USER
	big_msg "$T_DIR/$name-t1.eml" "From: a@example.org" "Subject: ticket 1"
	big_msg "$T_DIR/$name-t2.eml" "From: b@example.org" "Subject: ticket 2"
	big_msg "$T_DIR/$name-p.eml" "From: c@example.org" "Subject: hello"
	for m in t1 p t2; do
		imap_append "$u" INBOX "$T_DIR/$name-$m.eml" >/dev/null
	done
	if [ "$tls" = tls ]; then
		target=$IMAPS_PORT
		conf=(tls=implicit "ca_file=$IMAP_CAFILE")
	fi
	proxy_start "$target" "$spec"
	write_config "$T_DIR/$name.json" "sieve=$T_DIR/rules.sieve" \
		port="$PROXY_PORT" timeout=3 "${conf[@]}"
	bg_start "$T_DIR/$name.log" "$MAILSIFT" run -c "$T_DIR/$name.json" -v
	names+=("$name")
	expect[$name]=$want
	user[$name]=$u
	pid[$name]=$BG_PID
	idle[$name]=0
	ln -sf "$PROXY_LOG" "$T_DIR/$name.proxy"
}

fetch='/BODY\[\]<0> \{/'
case_start greeting plain "no greeting" 'close@s2c:10'
case_start login plain "during log in" 'close@c2s:/AUTHENTICATE|LOGIN/'
case_start select plain "during select" 'reset@c2s:/ SELECT /'
case_start fetch plain "during fetch" "close@s2c:$fetch+2000"
case_start move_sent plain "during move" 'close@c2s:/UID MOVE/'
case_start move_done plain "during move" 'close@s2c:/COPYUID/'
case_start idle plain "during IDLE" 'reset@s2c:/\+ idling/+10'
case_start stall plain "longer than 3 s" "stall@s2c:$fetch+2000"
case_start trickle plain "longer than 3 s" "trickle@s2c:$fetch,200"
case_start drop plain "longer than 3 s" "drop@s2c:$fetch"
case_start literal plain "literal of" "literal@s2c:$fetch"
case_start tls_close tls "TLS handshake" 'close@s2c:500'
case_start tls_stall tls "longer than 3 s" 'stall@s2c:0'
case_start tls_reset tls "lost during" 'reset@c2s:1200'

# The IDLE case breaks the connection once the daemon idles: the message
# that arrives after that must be filed too.
idle_case() {
	local u=${user[idle]}
	grep -q 'reset@s2c' "$T_DIR/idle.proxy" || return 1
	make_msg "$T_DIR/idle-t3.eml" "From: d@example.org" \
		"Subject: ticket 3" >/dev/null
	imap_append "$u" INBOX "$T_DIR/idle-t3.eml" >/dev/null
	idle[idle]=1
}

settled() {
	local name want
	[ "${idle[idle]}" = 1 ] || idle_case || return 1
	for name in "${names[@]}"; do
		want=2
		[ "$name" = idle ] && want=3
		count_is "${user[$name]}" Tickets "$want" || return 1
		count_is "${user[$name]}" INBOX 1 || return 1
	done
}
wait_until 90 settled

sleep 1		# anything filed twice would show now
for name in "${names[@]}"; do
	u=${user[$name]}
	log=$T_DIR/$name.log
	kill -0 "${pid[$name]}" || fail "$name: daemon died: $(tail -5 "$log")"
	want=2
	[ "$name" = idle ] && want=3
	assert_eq "$want" "$(imap_count "$u" Tickets)" "$name: Tickets"
	assert_eq 1 "$(imap_count "$u" INBOX)" "$name: INBOX"
	ids=$(dadm -f flow fetch -u "$u" hdr.message-id mailbox Tickets |
		sort | uniq -d)
	[ -z "$ids" ] || fail "$name: filed twice: $ids"
	[ -z "$(imap_search "$u" INBOX deleted)" ] ||
		fail "$name: a message is left \\Deleted"
	grep -q "retrying in" "$log" ||
		fail "$name: no reconnect logged: $(cat "$log")"
	grep "retrying in" "$log" | grep -q -- "${expect[$name]}" ||
		fail "$name: the failure does not say '${expect[$name]}': $(grep 'retrying' "$log")"
	bg_stop "${pid[$name]}" || fail "$name: daemon exit status $?"
	echo "$name: $(grep -m1 'retrying in' "$log" | sed 's/^<[0-9]>//')"
done
echo ok
