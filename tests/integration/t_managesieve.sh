#!/usr/bin/env bash
# t_managesieve.sh - `mailsift managesieve` with real clients, over
# STARTTLS checked against a test CA: sieve-connect uploads, lists,
# activates, downloads, checks and deletes scripts; a bad script is
# refused with its line; the running daemon files the next message by the
# newly activated script; python3-sievelib renames the active script
# (sieve-connect has no rename) and the daemon keeps following it; a
# script kept by hand at the `sieve` path is listed as the active one; a
# wrong password is refused and delayed; passwords and script text never
# reach the log; connections per address, literals and idle time are
# limited.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/managesieve-lib.sh"

ms_setup poll_interval=1
ms_start

# Reads lines from fd $1 until one starts with $2; true if it came.
read_until() {
	local fd=$1 want=$2 line
	while IFS= read -r -t 30 line <&"$fd"; do
		[[ $line == "$want"* ]] && return 0
	done
	return 1
}
# Limits: 3 connections per address (the 4th is turned away), literals
# before login at most 8 KiB, 10 s without a command (the first
# connection stays silent until the end of the test).
exec {idle}<>"/dev/tcp/127.0.0.1/$MS_PORT"
exec {c2}<>"/dev/tcp/127.0.0.1/$MS_PORT"
exec {c3}<>"/dev/tcp/127.0.0.1/$MS_PORT"
read_until "$c3" OK || fail "no greeting"
exec {c4}<>"/dev/tcp/127.0.0.1/$MS_PORT"
read_until "$c4" 'BYE "too many connections' || fail "a 4th connection was served"
exec {c4}>&-
printf 'AUTHENTICATE "PLAIN" {100000+}\r\n' >&"$c2"
read_until "$c2" 'BYE "literal larger' || fail "a 100000-byte literal was taken"
exec {c2}>&- {c3}>&-
printf '%s\n' "$IMAP_PASS" > "$T_DIR/pw"
sc() {
	timeout 60 sieve-connect --server 127.0.0.1 --port "$MS_PORT" \
		--user "$u" --passwordfd 3 --tlscafile "$T_DIR/ca.pem" \
		--noclearchan --nosrv "$@" 3< "$T_DIR/pw"
}

# The daemon runs with no script active yet: the built-in policy.
bg_start "$T_DIR/daemon.log" "$MAILSIFT" run -c "$T_DIR/configs/$u.json" -v
wait_until 20 grep -q "built-in policy applies" "$T_DIR/daemon.log"

cat > "$T_DIR/rules.sieve" <<'SIEVE'
require ["fileinto"];
if header :contains "Subject" "invoice" {
    fileinto "Bills";
}
SIEVE
sc --upload --localsieve "$T_DIR/rules.sieve" --remotesieve rules \
	|| fail "upload failed"
sc --list > "$T_DIR/list" || fail "list failed"
grep -qx '"rules"' "$T_DIR/list" || fail "list: $(cat "$T_DIR/list")"
sc --activate --remotesieve rules || fail "activate failed"
sc --list > "$T_DIR/list" || fail "list failed"
grep -qx '"rules" ACTIVE' "$T_DIR/list" || fail "not active: $(cat "$T_DIR/list")"
sc --download --remotesieve rules --localsieve "$T_DIR/got.sieve" \
	|| fail "download failed"
cmp "$T_DIR/rules.sieve" "$T_DIR/got.sieve" || fail "downloaded script differs"
grep -q "TLS on with 127.0.0.1" "$T_DIR/ms.log" || fail "the client did not use STARTTLS"

# The daemon picks the activated script up at once and files by it.
wait_until 20 grep -q "reloaded sieve script" "$T_DIR/daemon.log"
make_msg "$T_DIR/invoice.eml" "Subject: your invoice 42" >/dev/null
imap_append "$u" INBOX "$T_DIR/invoice.eml" >/dev/null
wait_until 30 count_is "$u" Bills 1

# A bad script is refused with its line, and not stored.
printf 'require "fileinto";\nif true {\n  reject "no";\n}\n' > "$T_DIR/bad.sieve"
sc --upload --localsieve "$T_DIR/bad.sieve" --remotesieve bad \
	> "$T_DIR/bad.out" 2>&1 && fail "a bad script was accepted"
grep -q 'bad:3: ' "$T_DIR/bad.out" || fail "no line in the refusal: $(cat "$T_DIR/bad.out")"
grep -qi 'reject' "$T_DIR/bad.out" || fail "no reason in the refusal: $(cat "$T_DIR/bad.out")"
sc --checkscript --localsieve "$T_DIR/bad.sieve" > "$T_DIR/check.out" 2>&1 \
	&& fail "CHECKSCRIPT accepted a bad script"
sc --list > "$T_DIR/list"
grep -q '"bad"' "$T_DIR/list" && fail "the refused script was stored"

# Rename the active script (a real client that has RENAMESCRIPT): it
# stays active and the daemon follows it; an edit of it is picked up.
/usr/bin/python3 - "$MS_PORT" "$u" "$IMAP_PASS" <<'PY' || fail "sievelib rename failed"
import sys
from sievelib.managesieve import Client
c = Client("127.0.0.1", int(sys.argv[1]))
assert c.connect(sys.argv[2], sys.argv[3], starttls=True, authmech="PLAIN")
assert c.renamescript("rules", "filters")
active, others = c.listscripts()
assert active == "filters", (active, others)
script = ('require ["fileinto"];\nif header :contains "Subject" "receipt" '
          '{ fileinto "Receipts"; }\n')
assert c.putscript("filters", script)
c.logout()
PY
make_msg "$T_DIR/receipt.eml" "Subject: receipt for you" >/dev/null
imap_append "$u" INBOX "$T_DIR/receipt.eml" >/dev/null
wait_until 30 count_is "$u" Receipts 1

# The active script cannot be deleted; after deactivating it can, and the
# built-in policy applies again.
sc --delete --remotesieve filters > "$T_DIR/del.out" 2>&1 \
	&& fail "the active script was deleted"
sc --deactivate || fail "deactivate failed"
sc --delete --remotesieve filters || fail "delete failed"
sc --list > "$T_DIR/list"
[ -s "$T_DIR/list" ] && fail "scripts left: $(cat "$T_DIR/list")"
wait_until 20 bash -c "grep -c 'built-in policy applies' '$T_DIR/daemon.log' | grep -q 2"

# A script kept by hand at the `sieve` path is the one in force: it is
# listed as active under its own name (it failed: the list was empty),
# reads back as it is, cannot be deleted, and stays where it is until an
# upload over it, which keeps it in force.
printf 'require "fileinto";\nfileinto "Kept";\n' > "$T_DIR/active-$u.sieve"
sc --list > "$T_DIR/list" || fail "list failed"
[ "$(cat "$T_DIR/list")" = '"active-'"$u"'" ACTIVE' ] \
	|| fail "hand-kept script not listed as active: $(cat "$T_DIR/list")"
sc --download --remotesieve "active-$u" --localsieve "$T_DIR/kept.sieve" \
	|| fail "download of the hand-kept script failed"
cmp "$T_DIR/active-$u.sieve" "$T_DIR/kept.sieve" || fail "hand-kept script differs"
sc --delete --remotesieve "active-$u" > "$T_DIR/del.out" 2>&1 \
	&& fail "the hand-kept active script was deleted"
[ -f "$T_DIR/active-$u.sieve" ] && [ ! -L "$T_DIR/active-$u.sieve" ] \
	|| fail "the hand-kept script was touched"
sc --upload --localsieve "$T_DIR/rules.sieve" --remotesieve "active-$u" \
	|| fail "upload over the hand-kept script failed"
sc --list > "$T_DIR/list" || fail "list failed"
[ "$(cat "$T_DIR/list")" = '"active-'"$u"'" ACTIVE' ] \
	|| fail "after the upload: $(cat "$T_DIR/list")"
[ -L "$T_DIR/active-$u.sieve" ] && cmp "$T_DIR/rules.sieve" "$T_DIR/active-$u.sieve" \
	|| fail "the upload is not the script in force"
sc --deactivate || fail "deactivate failed"
sc --delete --remotesieve "active-$u" || fail "delete failed"

# A wrong password is refused, and the answer is delayed (1 s, then 2 s).
printf 'wrong\n' > "$T_DIR/badpw"
start=$(now_ms)
timeout 60 sieve-connect --server 127.0.0.1 --port "$MS_PORT" --user "$u" \
	--passwordfd 3 --tlscafile "$T_DIR/ca.pem" --nosrv --list \
	3< "$T_DIR/badpw" > /dev/null 2>&1 && fail "a wrong password was accepted"
first=$(( $(now_ms) - start ))
start=$(now_ms)
timeout 60 sieve-connect --server 127.0.0.1 --port "$MS_PORT" --user "$u" \
	--passwordfd 3 --tlscafile "$T_DIR/ca.pem" --nosrv --list \
	3< "$T_DIR/badpw" > /dev/null 2>&1 && fail "a wrong password was accepted"
second=$(( $(now_ms) - start ))
echo "wrong password answered after $first ms, then $second ms"
[ "$first" -ge 1000 ] || fail "first refusal not delayed: $first ms"
[ "$second" -ge 2000 ] || fail "second refusal not delayed more: $second ms"
grep -q "login of '$u' from 127.0.0.1 refused" "$T_DIR/ms.log" \
	|| fail "the refusal is not logged"

# Logs: logins and script changes, never a password or a script's text.
grep -q "stored script 'rules'" "$T_DIR/ms.log" || fail "no log of the upload"
grep -q "renamed script 'rules' to 'filters'" "$T_DIR/ms.log" || fail "no log of the rename"
grep -qF "$IMAP_PASS" "$T_DIR/ms.log" && fail "a password reached the log"
grep -q "wrong" "$T_DIR/ms.log" && fail "a wrong password reached the log"
grep -q "invoice" "$T_DIR/ms.log" && fail "script text reached the log"
read_until "$idle" 'BYE "idle too long"' || fail "an idle connection stayed open"
bg_stop "$MS_PID" || fail "the service did not stop cleanly on SIGTERM"
echo ok
