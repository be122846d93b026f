# matrix.sh - the end-to-end cases every server of the suite must pass
# (t_servers_*.sh run them, one server each).  Source after lib.sh and
# servers.sh, then: matrix_run SERVER.
#
# One owner, one daemon (poll_interval 1 s) for all the cases, in order;
# each case runs in a subshell, so a failing one is recorded and the
# others still run.  Each case's result goes to $MATRIX_DIR/SERVER, which
# tests/integration/run prints as the server x case table at the end.
# Where a server lacks a capability (MOVE, CONDSTORE, SPECIAL-USE, UIDNEXT
# in SELECT) the same case goes through mailsift's fallback for it.

MATRIX_CASES="rule-move unread keyword rescue drag-junk failed-move restart catch-up idle stop tls"

mx_rules() {
	cat > "$T_DIR/rules.sieve" <<'SIEVE'
require ["fileinto", "imap4flags"];
if header :contains "Subject" "[dev]" {
    fileinto :flags "$List" "Lists/dev";
    stop;
}
if header :contains "Subject" "WINNER" { fileinto "Junk"; }
SIEVE
}

# mx_msg NAME KIND: a message file $T_DIR/msgs/NAME.eml; echoes its
# Message-ID.  KIND: dev (a list mail), winner (spam by the rule), plain.
mx_msg() {
	local name=$1 kind=$2
	case "$kind" in
	dev) make_msg "$T_DIR/msgs/$name.eml" "From: dev@lists.example.org" \
		"To: $u@example.org" "Subject: [dev] release notes $name" \
		"body=Release notes for $name: the build moves to the new runner." ;;
	winner) make_msg "$T_DIR/msgs/$name.eml" "From: prizes@lotto.example" \
		"To: $u@example.org" "Subject: WINNER $name of our lottery" \
		"body=Dear friend, you are WINNER $name, claim the prize now." ;;
	plain) make_msg "$T_DIR/msgs/$name.eml" "From: friend@example.net" \
		"To: $u@example.org" "Subject: lunch on $name?" \
		"body=Shall we meet for lunch on $name? The usual place." ;;
	esac
}

mx_uid() { sx search "$1" "$2" | head -n 1; }
mx_in() { [ -n "$(mx_uid "$1" "$2")" ]; }
mx_count_is() { [ "$(sx count "$1")" = "$2" ]; }
mx_flags() { sx flags "$1" "$(mx_uid "$1" "$2")"; }
mx_has_flag() { [[ " $(mx_flags "$1" "$2") " == *" $3 "* ]]; }
# The state of the newest decision about the message with Message-ID $1.
mx_decision() {
	q "SELECT d.state FROM decisions d JOIN messages m ON m.id = d.message
		WHERE m.message_id = '$1' ORDER BY d.id DESC LIMIT 1"
}
mx_decision_is() { [ "$(mx_decision "$1")" = "$2" ]; }
# "old>new reason" of the corrections of the message with Message-ID $1.
mx_corrections() {
	q "SELECT c.old_trained || '>' || c.new_trained || ' ' || c.reason
		FROM corrections c JOIN messages m ON m.id = c.message
		WHERE m.message_id = '$1' ORDER BY c.id"
}
mx_corrections_are() { [ "$(mx_corrections "$1")" = "$2" ]; }

# The daemon: started by mx_start N [LOG-LEVEL] (log daemon-N.log), also
# from a case's subshell, so known by $T_DIR/daemon.pid rather than as a
# child; mx_stop sends SIGTERM and fails unless it exits, cleanly (its
# closing "stopped:" line), within 10 s; the time taken is in
# $T_DIR/stop-ms.
mx_start() {
	"$MAILSIFT" run -c "$T_DIR/c.json" --log-level "${2:-info}" \
		> "$T_DIR/daemon-$1.log" 2>&1 &
	echo "$! $1" > "$T_DIR/daemon.pid"
}
mx_stop() {
	local pid n t0
	read -r pid n < "$T_DIR/daemon.pid"
	t0=$(now_ms)
	kill -TERM "$pid" 2>/dev/null
	while kill -0 "$pid" 2>/dev/null && [ $(( $(now_ms) - t0 )) -lt 10000 ]; do
		sleep 0.05
	done
	echo $(( $(now_ms) - t0 )) > "$T_DIR/stop-ms"
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		fail "the daemon did not stop within 10 s of SIGTERM"
	fi
	grep -q "stopped: " "$T_DIR/daemon-$n.log" \
		|| fail "the daemon did not stop cleanly: $(tail -n 3 "$T_DIR/daemon-$n.log")"
}
mx_alive() { local pid n; read -r pid n < "$T_DIR/daemon.pid"; kill -0 "$pid" 2>/dev/null; }

case_rule-move() {
	local mid uid
	mid=$(mx_msg dev1 dev)
	sx append INBOX "$T_DIR/msgs/dev1.eml" >/dev/null
	wait_until 20 mx_in Lists/dev "$mid"
	uid=$(mx_uid Lists/dev "$mid")
	cmp "$T_DIR/msgs/dev1.eml" <(sx fetch Lists/dev "$uid") \
		|| fail "the moved message's bytes changed"
	mx_has_flag Lists/dev "$mid" '$List' \
		|| fail "no \$List on it: $(mx_flags Lists/dev "$mid")"
	mx_in INBOX "$mid" && fail "still in INBOX too"
	sx boxes | grep -qx "Lists/dev" || fail "no Lists/dev: $(sx -r boxes)"
	echo "server's name of Lists/dev: $(sx -r boxes | grep -i dev)"
}

case_unread() {
	local mid
	mid=$(mx_msg plain1 plain)
	sx append INBOX "$T_DIR/msgs/plain1.eml" >/dev/null
	wait_until 20 mx_decision_is "$mid" done
	mx_in INBOX "$mid" || fail "not kept in INBOX"
	assert_eq "" "$(mx_flags INBOX "$mid")" "flags of the kept message (must stay unread)"
}

case_keyword() {
	local m2 m3
	m2=$(mx_msg plain2 plain)
	m3=$(mx_msg plain3 plain)
	sx append INBOX "$T_DIR/msgs/plain2.eml" >/dev/null
	sx append INBOX "$T_DIR/msgs/plain3.eml" >/dev/null
	wait_until 20 mx_decision_is "$m3" done
	sx store INBOX "$(mx_uid INBOX "$m2")" +FLAGS '$NotJunk'
	sx store INBOX "$(mx_uid INBOX "$m3")" +FLAGS '$Junk'
	wait_until 20 mx_corrections_are "$m2" ">ham \$NotJunk set by a mail client"
	wait_until 20 mx_corrections_are "$m3" ">spam \$Junk set by a mail client"
}

case_drag-junk() {
	local mid
	mid=$(sed -n 's/^Message-ID: //p' "$T_DIR/msgs/plain1.eml" | tr -d '\r')
	mx_in INBOX "$mid" || fail "plain1 is not in INBOX"
	sx move INBOX "$(mx_uid INBOX "$mid")" Junk
	wait_until 20 mx_corrections_are "$mid" ">spam moved into Junk by the owner"
	wait_until 10 mx_has_flag Junk "$mid" '$Junk'
}

case_rescue() {
	local mid
	mid=$(mx_msg winner1 winner)
	sx append INBOX "$T_DIR/msgs/winner1.eml" >/dev/null
	wait_until 20 mx_in Junk "$mid"
	mx_has_flag Junk "$mid" '$Junk' || fail "no \$Junk: $(mx_flags Junk "$mid")"
	sx move Junk "$(mx_uid Junk "$mid")" INBOX
	wait_until 20 mx_corrections_are "$mid" ">ham moved out of Junk by the owner"
	wait_until 10 mx_has_flag INBOX "$mid" '$NotJunk'
	mx_has_flag INBOX "$mid" '$Junk' && fail "\$Junk still on the rescued message"
	sleep 2
	mx_in INBOX "$mid" || fail "the rescued message left INBOX again"
}

# A move into Junk that the server refuses leaves no $Junk behind (so
# nothing learns mailsift's own verdict as the owner's), shows in status,
# and is retried once the server accepts it.
case_failed-move() {
	local mid
	srv_break Junk || fail "cannot make Junk refuse messages"
	mid=$(mx_msg winner2 winner)
	sx append INBOX "$T_DIR/msgs/winner2.eml" >/dev/null
	# Tries follow each other (poll_interval 1 s here, doubling): look
	# between two of them.
	wait_until 20 mx_failed_and_untagged "$mid"
	wait_until 10 mx_status_says "will retry after"
	sleep 1
	assert_eq "" "$(mx_corrections "$mid")" "training of the message whose move failed"
	srv_mend Junk || fail "cannot make Junk accept messages again"
	wait_until 30 mx_in Junk "$mid"
	wait_until 10 mx_decision_is "$mid" done
	sleep 2
	assert_eq "" "$(mx_corrections "$mid")" "training of the retried message"
}

mx_failed_and_untagged() {
	mx_decision_is "$1" failed && mx_in INBOX "$1" &&
		[ -z "$(mx_flags INBOX "$1")" ] && mx_decision_is "$1" failed
}
mx_status_says() {
	"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.txt" &&
		grep -q "$1" "$T_DIR/status.txt"
}

case_restart() {
	local mid
	srv_restart
	mid=$(mx_msg dev2 dev)
	sx append INBOX "$T_DIR/msgs/dev2.eml" >/dev/null
	wait_until 40 mx_in Lists/dev "$mid"
	mx_alive || fail "the daemon died"
}

# Mail that arrives while mailsift is stopped is sorted when it starts,
# once.  The daemon is restarted with the debug log for "idle".
case_catch-up() {
	local m3 m4 before
	mx_stop
	before=$(sx count Lists/dev)
	m3=$(mx_msg dev3 dev)
	m4=$(mx_msg plain4 plain)
	sx append INBOX "$T_DIR/msgs/dev3.eml" >/dev/null
	sx append INBOX "$T_DIR/msgs/plain4.eml" >/dev/null
	mx_start 2 debug
	wait_until 30 mx_in Lists/dev "$m3"
	wait_until 20 mx_decision_is "$m4" done
	assert_eq $((before + 1)) "$(sx count Lists/dev)" "messages in Lists/dev"
	mx_in INBOX "$m4" || fail "plain4 left INBOX"
}

# Nothing new: the daemon waits (IDLE), with no more than the learning
# scans that poll_interval (1 s here) asks for.
case_idle() {
	local log=$T_DIR/daemon-2.log a b
	a=$(grep -c "imap .* > " "$log")
	sleep 3
	b=$(grep -c "imap .* > " "$log")
	echo "commands sent in 3 s of waiting: $((b - a))"
	[ $((b - a)) -lt 150 ] || fail "$((b - a)) commands in 3 s with nothing to do"
	grep -q "IDLE" "$log" || fail "never waited with IDLE"
}

case_stop() {
	mx_stop
	echo "SIGTERM to exit: $(cat "$T_DIR/stop-ms") ms"
	[ "$(cat "$T_DIR/stop-ms")" -lt 5000 ] \
		|| fail "took $(cat "$T_DIR/stop-ms") ms to stop"
}

case_tls() {
	local rc=0
	srv_config "$T_DIR/tls.json" imap.host=127.0.0.1 "imap.port:=$SRV_TLS_PORT" \
		tls=implicit "ca_file=$SRV_CAFILE" timeout=10 "state_dir=$T_DIR/state-tls"
	"$MAILSIFT" run -c "$T_DIR/tls.json" --once -v > "$T_DIR/tls.log" 2>&1 \
		|| fail "run over TLS: $(tail -5 "$T_DIR/tls.log")"
	grep -q "implicit TLS" "$T_DIR/tls.log" || fail "not over TLS: $(cat "$T_DIR/tls.log")"
	srv_config "$T_DIR/notrust.json" imap.host=127.0.0.1 "imap.port:=$SRV_TLS_PORT" \
		tls=implicit timeout=10 "state_dir=$T_DIR/state-tls"
	"$MAILSIFT" run -c "$T_DIR/notrust.json" --once > "$T_DIR/notrust.log" 2>&1 || rc=$?
	assert_eq 1 "$rc" "exit status with an untrusted certificate"
	grep -qi certificate "$T_DIR/notrust.log" || fail "no certificate error: $(cat "$T_DIR/notrust.log")"
}

matrix_run() {
	local server=$1 c rc t0 failed=0 row
	srv_use "$server"
	mkdir -p "$T_DIR/msgs" "${MATRIX_DIR:=$T_DIR/matrix}"
	row=$MATRIX_DIR/$server
	: > "$row"
	srv_new_user
	u=$IMAP_USER
	state=$T_DIR/state-$u
	mkdir -p "$state"
	mx_rules
	srv_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" poll_interval=1 timeout=10
	train_background "$state/tokens.db" 4
	echo "$server on $SRV_HOST:$SRV_PORT (TLS $SRV_TLS_PORT), user $u; capabilities: $(sx caps)"
	mx_start 1
	trap 'mx_alive && kill -TERM "$(cut -d" " -f1 "$T_DIR/daemon.pid")"; lib_cleanup' EXIT
	for c in $MATRIX_CASES; do
		t0=$(now_ms)
		rc=0
		( "case_$c" ) > "$T_DIR/case-$c.log" 2>&1 || rc=$?
		if [ $rc = 0 ]; then
			echo "$c PASS" >> "$row"
			echo "case $c: PASS ($(( $(now_ms) - t0 )) ms)"
			sed 's/^/    /' "$T_DIR/case-$c.log" | grep -v '^    $' | tail -n 3
		else
			failed=$((failed + 1))
			echo "$c FAIL" >> "$row"
			echo "case $c: FAIL ($(( $(now_ms) - t0 )) ms)"
			tail -n 15 "$T_DIR/case-$c.log" | sed 's/^/    /'
		fi
	done
	mx_alive && ( mx_stop )
	if [ $failed -gt 0 ]; then
		echo "daemon log (last lines):"
		tail -n 30 "$T_DIR"/daemon-*.log | sed 's/^/    /'
		fail "$failed of the cases failed on $server"
	fi
	echo ok
}
