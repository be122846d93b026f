#!/usr/bin/env bash
# t_run_transient_exit.sh - a server that refuses for now never makes
# mailsift exit with status 2, which the systemd unit takes for a
# configuration error that will not fix itself (RestartPreventExitStatus=2)
# and so never restarts: at the very first start, a TLS handshake the
# server cuts off (an overloaded login service), a "* BYE" greeting, a
# server that never greets, and a refused connection all end in status 1
# (`run --once`, and the daemon as the unit runs it, unless it keeps
# retrying), with a message that names the server.  A broken
# configuration still exits 2.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER

# Starts the refusing server in MODE; sets port.
refuse() {
	rm -f "$T_DIR/port"
	bg_start "$T_DIR/refusing-$1.log" "$ITESTS/refusing_server" "$1" "$T_DIR/port"
	refuser=$BG_PID
	wait_until 10 test -s "$T_DIR/port"
	port=$(cat "$T_DIR/port")
}

# run --once against it: status 1 and a message naming the server.
expect_once_1() {
	local what=$1; shift
	write_config "$T_DIR/c.json" host=127.0.0.1 "port=$port" timeout=1 "$@"
	"$MAILSIFT" run -c "$T_DIR/c.json" --once 2> "$T_DIR/once.err"
	rc=$?
	cat "$T_DIR/once.err"
	assert_eq 1 "$rc" "exit status of run --once: $what"
	grep -q "127.0.0.1" "$T_DIR/once.err" || fail "$what: no server named"
}

# The daemon as the unit runs it: it retries, or exits 1; never 2.
expect_daemon_not_2() {
	local what=$1 i
	bg_start "$T_DIR/daemon.log" "$MAILSIFT" run -c "$T_DIR/c.json"
	daemon=$BG_PID
	for i in $(seq 1 30); do
		kill -0 "$daemon" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$daemon" 2>/dev/null; then
		bg_stop "$daemon" || fail "$what: the retrying daemon did not stop cleanly"
	else
		wait "$daemon"; rc=$?
		cat "$T_DIR/daemon.log"
		assert_eq 1 "$rc" "exit status of the daemon: $what"
	fi
}

refuse close
expect_once_1 "TLS handshake cut off at the first start" tls=implicit \
	"ca_file=$IMAP_CAFILE"
grep -q "busy server refuses new connections" "$T_DIR/once.err" \
	|| fail "the handshake failure does not say a busy server may be the cause"
expect_daemon_not_2 "TLS handshake cut off at the first start"
bg_stop "$refuser"

refuse bye
expect_once_1 "BYE greeting" tls=none
expect_daemon_not_2 "BYE greeting"
bg_stop "$refuser"

refuse silent
expect_once_1 "no greeting" tls=none
bg_stop "$refuser"

# Nothing listens on the port any more: connection refused.
expect_once_1 "connection refused" tls=none

# The same settings against the real server work: the refusals above were
# the server's, not the configuration's.
write_config "$T_DIR/c.json" tls=implicit "port=$IMAPS_PORT" host=localhost \
	"ca_file=$IMAP_CAFILE"
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run against the real server failed"

# A configuration error is still 2.
write_config "$T_DIR/bad.json" port=0
"$MAILSIFT" run -c "$T_DIR/bad.json" --once 2>/dev/null; rc=$?
assert_eq 2 "$rc" "exit status for a broken configuration"
echo ok
