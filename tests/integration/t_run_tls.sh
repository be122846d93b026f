#!/usr/bin/env bash
# t_run_tls.sh - the server's self-signed certificate is refused without
# imap.ca_file and accepted with it, for implicit TLS and STARTTLS; a
# certificate for another name is refused; tls "none" is refused for a
# non-loopback host before any connection.
. "$(dirname "$0")/lib.sh"

[ -n "${IMAP_CAFILE:-}" ] || fail "the test server has no TLS (IMAP_CAFILE unset)"
new_user
u=$IMAP_USER
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: hi" >/dev/null
imap_append "$u" INBOX "$T_DIR/m.eml" >/dev/null

for mode in implicit starttls; do
	port=$IMAPS_PORT
	[ $mode = starttls ] && port=$IMAP_PORT
	write_config "$T_DIR/bad.json" tls=$mode port=$port host=127.0.0.1 timeout=10
	rc=0
	"$MAILSIFT" run -c "$T_DIR/bad.json" --once > "$T_DIR/bad-$mode.log" 2>&1 || rc=$?
	assert_eq 1 "$rc" "$mode without ca_file: exit status"
	grep -qi "certificate" "$T_DIR/bad-$mode.log" \
		|| fail "$mode: no certificate error: $(cat "$T_DIR/bad-$mode.log")"
	grep -qi "ca_file" "$T_DIR/bad-$mode.log" \
		|| fail "$mode: the error does not say what to do: $(cat "$T_DIR/bad-$mode.log")"

	write_config "$T_DIR/good.json" tls=$mode port=$port host=127.0.0.1 \
		"ca_file=$IMAP_CAFILE" timeout=10
	"$MAILSIFT" run -c "$T_DIR/good.json" --once > "$T_DIR/good-$mode.log" 2>&1 \
		|| fail "$mode with ca_file failed: $(cat "$T_DIR/good-$mode.log")"
	write_config "$T_DIR/name.json" tls=$mode port=$port host=localhost \
		"ca_file=$IMAP_CAFILE" timeout=10
	"$MAILSIFT" run -c "$T_DIR/name.json" --once > "$T_DIR/name-$mode.log" 2>&1 \
		|| fail "$mode as localhost failed: $(cat "$T_DIR/name-$mode.log")"
done

# The certificate names localhost and 127.0.0.1 only: 127.0.0.2 is refused.
write_config "$T_DIR/other.json" tls=implicit port=$IMAPS_PORT host=127.0.0.2 \
	"ca_file=$IMAP_CAFILE" timeout=10
rc=0
"$MAILSIFT" run -c "$T_DIR/other.json" --once > "$T_DIR/other.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "host name mismatch: exit status"

# Plain text to a non-loopback host is a configuration error (exit 2).
write_config "$T_DIR/plain.json" tls=none host=mail.example.org
rc=0
"$MAILSIFT" run -c "$T_DIR/plain.json" --once > "$T_DIR/plain.log" 2>&1 || rc=$?
assert_eq 2 "$rc" "tls none to a remote host: exit status"
echo ok
