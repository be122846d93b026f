#!/usr/bin/env bash
# t_run_stop_signal.sh - SIGTERM stops the daemon at once whatever the
# store is waiting for: a server that accepted but never greets, a TLS
# handshake that never completes, a server that stalls or trickles in the
# middle of a FETCH (imap.timeout 60 s: only the signal can end these
# waits), IDLE, and a long catch-up against a server answering at once.
# Each case runs its own daemon (and proxy), side by side; each must exit
# with status 0 well within the deadline it would otherwise wait out.  The
# catch-up case then finishes with run --once: every message filed once.
. "$(dirname "$0")/lib.sh"

cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "ticket" { fileinto "Tickets"; }
SIEVE

# Appends n tickets to INBOX in one IMAP session.
append_tickets() {
	python3 - "$IMAP_HOST" "$IMAP_PORT" "$1" "$(cat "$T_DIR/$1.pass")" "$2" <<'PY'
import imaplib, sys
host, port, user, pw, n = sys.argv[1:6]
m = imaplib.IMAP4(host, int(port))
m.login(user, pw)
body = "\r\n".join("filler line %d of a ticket" % i for i in range(20))
for i in range(int(n)):
    msg = ("From: t@example.org\r\nSubject: ticket %d\r\n"
           "Message-ID: <stop-%s-%d@mailsift.test>\r\n\r\n%s\r\n"
           % (i, user, i, body))
    m.append("INBOX", None, None, msg.encode())
m.logout()
PY
}

names=()
declare -A pid ready
case_start() {
	local name=$1 tls=$2 msgs=$3 spec=$4 target=$IMAP_PORT
	local -a conf=()
	new_user
	append_tickets "$IMAP_USER" "$msgs"
	if [ "$tls" = tls ]; then
		target=$IMAPS_PORT
		conf=(tls=implicit "ca_file=$IMAP_CAFILE")
	fi
	proxy_start "$target" "$spec"
	ln -sf "$PROXY_LOG" "$T_DIR/$name.proxy"
	write_config "$T_DIR/$name.json" "sieve=$T_DIR/rules.sieve" \
		port="$PROXY_PORT" timeout=60 log_level=debug "${conf[@]}"
	bg_start "$T_DIR/$name.log" "$MAILSIFT" run -c "$T_DIR/$name.json"
	names+=("$name")
	pid[$name]=$BG_PID
	eval "user_$name=$IMAP_USER"
}

fetch='/BODY\[\]<0> \{/'
case_start greeting plain 1 'stall@s2c:0'
case_start handshake tls 1 'stall@s2c:0'
case_start stalled plain 1 "stall@s2c:$fetch+2000"
case_start trickle plain 1 "trickle@s2c:$fetch,500"
case_start idle plain 1 pass
case_start catchup plain 150 pass

# What shows each case is in the state to interrupt.
in_state() {
	case $1 in
	greeting|handshake|stalled|trickle)
		grep -q '@s2c at byte' "$T_DIR/$1.proxy" ;;
	idle)
		grep -q '> [A-Z0-9]* IDLE' "$T_DIR/idle.log" ;;
	catchup)
		[ "$(imap_count "$user_catchup" Tickets)" -ge 10 ] ;;
	esac
}
# The catch-up last, so that it is still going when it is stopped first.
for name in "${names[@]}"; do
	wait_until 60 in_state "$name"
done

for name in catchup "${names[@]:0:5}"; do
	[ "$name" = catchup ] || sleep 0.2	# well inside the wait now
	p=${pid[$name]}
	kill -0 "$p" || fail "$name: daemon died early: $(tail -5 "$T_DIR/$name.log")"
	start=$(now_ms)
	kill -TERM "$p"
	while kill -0 "$p" 2>/dev/null && [ $(( $(now_ms) - start )) -lt 20000 ]; do
		sleep 0.05
	done
	took=$(( $(now_ms) - start ))
	wait "$p"
	rc=$?
	echo "$name: stopped after $took ms (exit $rc)"
	# One second is the promise; the rest is sanitizer start-up of the
	# exit path on a busy machine.  The waits cut short here last 60 s.
	[ "$took" -lt 3000 ] || fail "$name: SIGTERM took $took ms: $(tail -5 "$T_DIR/$name.log")"
	assert_eq 0 "$rc" "$name: exit status"
done

# The interrupted catch-up loses and duplicates nothing.
write_config "$T_DIR/once.json" "sieve=$T_DIR/rules.sieve" \
	username="$user_catchup" password_file="$T_DIR/$user_catchup.pass" \
	state_dir="$T_DIR/state-$user_catchup"
"$MAILSIFT" run --once -c "$T_DIR/once.json" > "$T_DIR/once.log" 2>&1 ||
	fail "run --once: $(tail -5 "$T_DIR/once.log")"
assert_eq 150 "$(imap_count "$user_catchup" Tickets)" "catch-up: Tickets"
assert_eq 0 "$(imap_count "$user_catchup" INBOX)" "catch-up: INBOX"
dups=$(dadm -f flow fetch -u "$user_catchup" hdr.message-id mailbox Tickets |
	sort | uniq -d)
[ -z "$dups" ] || fail "catch-up: filed twice: $dups"
echo ok
