#!/usr/bin/env bash
# t_auth_crlf.sh - a password holding a line break never reaches the
# server (issue 9 item 7).  Sent raw, "x\r\nA8 LOGIN ...\r\nA9 DELETE Work"
# made Dovecot run the commands after the break.  A recording proxy
# between mailsift and Dovecot shows what was sent; the mailbox Work must
# survive; the error says what is wrong.  A password file with one Windows
# line end (CRLF) still works.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || fail "python3 is needed (packaging/deps.mk)"
new_user
u=$IMAP_USER
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: keep me" >/dev/null
imap_append "$u" Work "$T_DIR/m.eml" >/dev/null

# The proxy appends what the client sends to sent.log and what the server
# answers to recv.log; after the client leaves it lets the server finish.
cat > "$T_DIR/tap.py" <<'PY'
import os, socket, sys, threading, time
port, out = int(sys.argv[1]), sys.argv[2]
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
with open(out + "/port.tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
os.rename(out + "/port.tmp", out + "/port")
def pump(src, dst, log):
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            return
        if not data:
            return
        with open(log, "ab") as f:
            f.write(data)
        try:
            dst.sendall(data)
        except OSError:
            return
def serve(c):
    s = socket.create_connection(("127.0.0.1", port))
    threading.Thread(target=pump, args=(s, c, out + "/recv.log"),
                     daemon=True).start()
    pump(c, s, out + "/sent.log")
    time.sleep(1)
    s.close()
    c.close()
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
mkdir -p "$T_DIR/tap"
bg_start "$T_DIR/tap.err" python3 "$T_DIR/tap.py" "$IMAP_PORT" "$T_DIR/tap"
wait_until 10 test -s "$T_DIR/tap/port"
tap_port=$(cat "$T_DIR/tap/port")

printf 'x\r\nA8 LOGIN %s %s\r\nA9 DELETE Work\r\nA10 NOOP ' "$u" "$IMAP_PASS" \
	> "$T_DIR/evil.pass"
chmod 600 "$T_DIR/evil.pass"
write_config "$T_DIR/evil.json" "port=$tap_port" "password_file=$T_DIR/evil.pass"
rc=0
"$MAILSIFT" run -c "$T_DIR/evil.json" --once > "$T_DIR/evil.log" 2>&1 || rc=$?
sleep 1.5	# the proxy's grace period
[ "$rc" != 0 ] || fail "a password with line breaks was accepted"
if [ -s "$T_DIR/tap/sent.log" ] && grep -a -q "DELETE" "$T_DIR/tap/sent.log"; then
	fail "the injected commands reached the server: $(tr '\r\n' '  ' < "$T_DIR/tap/sent.log" | sed "s/$IMAP_PASS/<pw>/g")"
fi
if [ -s "$T_DIR/tap/recv.log" ] && grep -a -q "^A9 " "$T_DIR/tap/recv.log"; then
	fail "the server ran an injected command: $(grep -a "^A9 " "$T_DIR/tap/recv.log")"
fi
assert_eq 1 "$(imap_count "$u" Work)" "messages in Work"
grep -qi "line break" "$T_DIR/evil.log" \
	|| fail "the error does not explain: $(cat "$T_DIR/evil.log")"
grep -q "evil.pass" "$T_DIR/evil.log" || fail "the file is not named"
grep -q "$IMAP_PASS" "$T_DIR/evil.log" && fail "the password is in the log"

# A lone CR inside the line a password command prints: refused as well.
write_config "$T_DIR/cr.json" "port=$tap_port" -imap.password_file \
	"password_command=printf 'x\\rA9 DELETE Work\\n'"
rc=0
"$MAILSIFT" run -c "$T_DIR/cr.json" --once > "$T_DIR/cr.log" 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "a password with a CR was accepted"
grep -qi "carriage return" "$T_DIR/cr.log" \
	|| fail "the CR is not explained: $(cat "$T_DIR/cr.log")"
sleep 1.5
if [ -s "$T_DIR/tap/sent.log" ] && grep -a -q "DELETE" "$T_DIR/tap/sent.log"; then
	fail "a CR-split command reached the server"
fi
assert_eq 1 "$(imap_count "$u" Work)" "messages in Work after the CR case"

# A file saved with Windows line ends: its one CRLF is not the password.
# The password goes as AUTHENTICATE PLAIN (Dovecot offers it, and SASL-IR),
# never in a quoted string; quotes, backslashes, braces, spaces and UTF-8
# in it are just bytes.
new_user "" $'p"\\ {5}s w\xc3\xb6rd'
u2=$IMAP_USER
printf '%s\r\n' "$IMAP_PASS" > "$T_DIR/win.pass"
chmod 600 "$T_DIR/win.pass"
: > "$T_DIR/tap/sent.log"
write_config "$T_DIR/win.json" "port=$tap_port" "password_file=$T_DIR/win.pass"
"$MAILSIFT" run -c "$T_DIR/win.json" --once > "$T_DIR/win.log" 2>&1 \
	|| fail "a password file with a CRLF line end failed: $(cat "$T_DIR/win.log")"
plain=$(printf '\0%s\0%s' "$u2" "$IMAP_PASS" | base64 -w0)
grep -a -q "AUTHENTICATE PLAIN $plain" "$T_DIR/tap/sent.log" \
	|| fail "not sent as AUTHENTICATE PLAIN with SASL-IR: $(head -c 300 "$T_DIR/tap/sent.log" | tr '\r\n' '  ')"
grep -a -q "LOGIN" "$T_DIR/tap/sent.log" && fail "LOGIN was used"
echo ok
