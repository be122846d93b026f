#!/usr/bin/env bash
# t_auth_oauth2.sh - imap.auth "xoauth2" and "oauthbearer" against a
# Dovecot of its own whose oauth2 passdb asks a token introspection
# endpoint (RFC 7662) that this test runs on 127.0.0.1 (Python
# http.server).  A good token is accepted; an expired one is refused with
# the reason the server gives; the token helper (password_command) runs
# again at every connect, and after the server drops the session its new
# token is used.  No token reaches the log or the state directory.
. "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || fail "python3 is needed (packaging/deps.mk)"
mkdir -p "$T_DIR/oauth"

# tokens.json maps a token to what introspection answers for it (read at
# every request, so the test can expire tokens); unknown ones are
# inactive.  Every token asked about is appended to asked.log.
cat > "$T_DIR/introspect.py" <<'PY'
import http.server, json, os, sys, urllib.parse
d = sys.argv[1]
class Introspect(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        form = urllib.parse.parse_qs(self.rfile.read(n).decode())
        token = form.get("token", [""])[0]
        with open(d + "/tokens.json") as f:
            answer = json.load(f).get(token, {"active": False})
        with open(d + "/asked.log", "a") as f:
            f.write(token + "\n")
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Introspect)
with open(d + "/port.tmp", "w") as f:
    f.write(str(server.server_port))
os.rename(d + "/port.tmp", d + "/port")
server.serve_forever()
PY
echo '{}' > "$T_DIR/oauth/tokens.json"
bg_start "$T_DIR/introspect.err" python3 "$T_DIR/introspect.py" "$T_DIR/oauth"
wait_until 10 test -s "$T_DIR/oauth/port"

# This test's own server; the helpers of lib.sh now act on it.
OA_DIR=$T_DIR/dovecot
env_out=$(DOVECOT_OAUTH2_URL="http://127.0.0.1:$(cat "$T_DIR/oauth/port")/introspect" \
	"$LIB_DIR/dovecot-start" "$OA_DIR") || fail "dovecot-start with OAuth2 failed"
trap 'lib_cleanup; "$LIB_DIR/dovecot-stop" "$OA_DIR" >/dev/null 2>&1' EXIT
eval "$env_out"

new_user
u=$IMAP_USER
state=$T_DIR/state-$u
tokens() {	# TOKEN... : these are valid for $u, every other one expired
	local t sep=""
	{
		printf '{'
		for t in "$@"; do
			printf '%s"%s": {"active": true, "username": "%s"}' \
				"$sep" "$t" "$u"
			sep=", "
		done
		printf '}\n'
	} > "$T_DIR/oauth/tokens.json.tmp"
	mv "$T_DIR/oauth/tokens.json.tmp" "$T_DIR/oauth/tokens.json"
}
# The token helper prints the current token and counts its runs.
cat > "$T_DIR/helper" <<EOF
#!/bin/sh
echo run >> "$T_DIR/helper.runs"
cat "$T_DIR/current-token"
EOF
chmod +x "$T_DIR/helper"
runs() { if [ -f "$T_DIR/helper.runs" ]; then wc -l < "$T_DIR/helper.runs"; else echo 0; fi; }
decided() {	# MESSAGE-ID: the daemon recorded a finished decision
	[ "$(ledger_sql "$state" "SELECT count(*) FROM decisions d JOIN
		messages m ON m.id = d.message WHERE m.message_id = '$1'
		AND d.state = 'done'")" = 1 ]
}

tokA=tokA-$RANDOM$RANDOM
tokB=tokB-$RANDOM$RANDOM
tokens "$tokA"
echo "$tokA" > "$T_DIR/current-token"
write_config "$T_DIR/x.json" imap.auth=xoauth2 -imap.password_file \
	"password_command=$T_DIR/helper"

# XOAUTH2 with a good token: the daemon logs in and sorts.
bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/x.json" -v
pid=$BG_PID
mid=$(make_msg "$T_DIR/m1.eml" "From: a@example.org" "Subject: one")
imap_append "$u" INBOX "$T_DIR/m1.eml" >/dev/null
wait_until 20 decided "$mid"
assert_eq 1 "$(runs)" "helper runs for the first login"

# The token expires and the helper has a new one; the server drops the
# session: the daemon asks the helper again and logs in with the new one.
tokens "$tokB"
echo "$tokB" > "$T_DIR/current-token"
imap_kick "$u"
mid=$(make_msg "$T_DIR/m2.eml" "From: a@example.org" "Subject: two")
imap_append "$u" INBOX "$T_DIR/m2.eml" >/dev/null
wait_until 30 decided "$mid"
[ "$(runs)" -ge 2 ] || fail "the helper was not asked again on reconnect"
grep -q -x "$tokB" "$T_DIR/oauth/asked.log" || fail "the new token was not used"
bg_stop "$pid" || fail "daemon exit status $?"

# An expired token: refused, with the server's reason; exit status 1.
echo "$tokA" > "$T_DIR/current-token"
rc=0
"$MAILSIFT" run -c "$T_DIR/x.json" --once > "$T_DIR/expired.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status with an expired token"
grep -q "login failed for user $u" "$T_DIR/expired.log" \
	|| fail "refusal not explained: $(cat "$T_DIR/expired.log")"
grep -q "the server's reason: status 401" "$T_DIR/expired.log" \
	|| fail "the server's reason is not shown: $(cat "$T_DIR/expired.log")"
grep -q "access token" "$T_DIR/expired.log" \
	|| fail "no advice about the token: $(cat "$T_DIR/expired.log")"
echo "refused: $(grep "login failed" "$T_DIR/expired.log")"

# OAUTHBEARER (RFC 7628): the same, good and expired.
write_config "$T_DIR/b.json" imap.auth=oauthbearer -imap.password_file \
	"password_command=$T_DIR/helper"
echo "$tokB" > "$T_DIR/current-token"
"$MAILSIFT" run -c "$T_DIR/b.json" --once > "$T_DIR/bearer.log" 2>&1 \
	|| fail "OAUTHBEARER with a good token failed: $(cat "$T_DIR/bearer.log")"
echo "$tokA" > "$T_DIR/current-token"
rc=0
"$MAILSIFT" run -c "$T_DIR/b.json" --once > "$T_DIR/bearer-expired.log" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status with an expired token (OAUTHBEARER)"
grep -q "the server's reason: status invalid_token" "$T_DIR/bearer-expired.log" \
	|| fail "OAUTHBEARER reason not shown: $(cat "$T_DIR/bearer-expired.log")"

# Tokens stay in memory: not in logs, not in the state directory.
for f in "$T_DIR"/*.log "$state"/*; do
	if grep -a -q -e "$tokA" -e "$tokB" "$f"; then
		fail "a token was written to $f"
	fi
done
echo ok
