#!/usr/bin/env bash
# t_preview.sh - mailsift preview against real Dovecot: the owner sorts
# with one script, edits a rule, and preview lists exactly the messages
# whose outcome would change (text and JSON), with the score each had;
# nothing on the server changes (counts, flags, \Recent of mail another
# client just delivered) and the ledger is not written; a broken script
# exits 2 with SCRIPT:LINE: message.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require ["fileinto", "imap4flags"];
if header :contains "Subject" "alpha" {
    fileinto "A";
}
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"
for s in "alpha one" "alpha two" "beta one" "gamma one"; do
	make_msg "$T_DIR/${s// /-}.eml" "From: Sender <s@example.net>" \
		"Subject: $s" > "$T_DIR/${s// /-}.id"
	imap_append "$u" INBOX "$T_DIR/${s// /-}.eml" >/dev/null
done
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "mailsift run --once failed"
assert_eq 2 "$(imap_count "$u" A)" "messages filed into A"

# Mail another client delivers afterwards carries \Recent until someone
# SELECTs its mailbox; preview looks into A and INBOX.
make_msg "$T_DIR/late.eml" "Subject: late" >/dev/null
imap_append "$u" A "$T_DIR/late.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/late.eml" >/dev/null

# Every message of every mailbox with all its flags, \Recent included.
server_state() {
	local box
	for box in $(imap_boxes "$u"); do
		echo "== $box"
		dadm -f tab fetch -u "$u" 'uid flags' mailbox "$box" all
	done
}
ledger_state() { ledger_sql "$T_DIR/state-$u" .dump | sha256sum; }
server_state > "$T_DIR/before"
ledger_state > "$T_DIR/ledger.before"
grep -q 'Recent' "$T_DIR/before" || fail "no \\Recent to watch: $(cat "$T_DIR/before")"

# The edit: alpha two goes to B now, beta gets flagged; alpha one and
# gamma stay as they were (the alpha one rule moves down a line).
cat > "$T_DIR/edited.sieve" <<'SIEVE'
require ["fileinto", "imap4flags"];
if header :contains "Subject" "alpha one" {
    fileinto "A";
} elsif header :contains "Subject" "alpha" {
    fileinto "B";
}
if header :contains "Subject" "beta" { addflag "\\Flagged"; }
SIEVE
"$MAILSIFT" preview -c "$T_DIR/c.json" --script "$T_DIR/edited.sieve" \
	> "$T_DIR/preview.txt" || fail "preview failed: $(cat "$T_DIR/preview.txt")"
cat "$T_DIR/preview.txt"
grep -q "^2 of 4 decisions would change" "$T_DIR/preview.txt" \
	|| fail "summary line"
grep -q "subject: alpha two" "$T_DIR/preview.txt" || fail "alpha two not listed"
grep -q "now:   move to 'A'  (line 3: fileinto \"A\")" "$T_DIR/preview.txt" \
	|| fail "what happened to alpha two"
grep -q "would: move to 'B'  (line 5: fileinto \"B\")" "$T_DIR/preview.txt" \
	|| fail "what would happen to alpha two"
grep -q "would: keep in 'INBOX' +\\\\Flagged" "$T_DIR/preview.txt" \
	|| fail "what would happen to beta one"
grep -q "alpha one\|gamma" "$T_DIR/preview.txt" && fail "unchanged messages listed"

"$MAILSIFT" preview -c "$T_DIR/c.json" --script "$T_DIR/edited.sieve" --json \
	> "$T_DIR/preview.json" || fail "preview --json failed"
$PY - "$T_DIR" <<'PY' || fail "JSON: $(cat "$T_DIR/preview.json")"
import json, sys
d = sys.argv[1]
r = json.load(open(d + "/preview.json"))
ids = {open(d + "/" + n + ".id").read().strip(): n
       for n in ("alpha-one", "alpha-two", "beta-one", "gamma-one")}
assert r["examined"] == 4, r["examined"]
got = {ids[c["message_id"]]: c for c in r["changes"]}
assert sorted(got) == ["alpha-two", "beta-one"], sorted(got)
a = got["alpha-two"]
assert a["subject"] == "alpha two" and a["from"] == "Sender <s@example.net>"
assert isinstance(a["decision"], int)
assert a["now"] == {"folder": "A", "flags": [], "rule": 'line 3: fileinto "A"',
                    "copies": [], "actions": "move to 'A'"}, a["now"]
assert a["would"]["folder"] == "B" and a["would"]["rule"] == 'line 5: fileinto "B"'
b = got["beta-one"]
assert b["now"]["folder"] == "INBOX" and b["now"]["flags"] == []
assert b["would"]["folder"] == "INBOX" and b["would"]["flags"] == ["\\Flagged"]
PY

# The configured script (unchanged) changes nothing.
"$MAILSIFT" preview -c "$T_DIR/c.json" > "$T_DIR/same.txt" \
	|| fail "preview of the configured script failed"
grep -q "^0 of 4 decisions would change" "$T_DIR/same.txt" \
	|| fail "configured script: $(cat "$T_DIR/same.txt")"

# Nothing changed on the server, nor in the ledger.
server_state > "$T_DIR/after"
diff "$T_DIR/before" "$T_DIR/after" || fail "preview changed the mailbox"
ledger_state > "$T_DIR/ledger.after"
cmp -s "$T_DIR/ledger.before" "$T_DIR/ledger.after" || fail "preview wrote the ledger"

# The check above can fail: a SELECT takes \Recent.
pass=$(cat "$T_DIR/$u.pass")
exec {fd}<>"/dev/tcp/$IMAP_HOST/$IMAP_PORT"
printf 'a LOGIN "%s" "%s"\r\nb SELECT A\r\nc LOGOUT\r\n' "$u" "$pass" >&"$fd"
lib_imap_tagged "$fd" c || true
exec {fd}>&-
server_state > "$T_DIR/selected"
diff -q "$T_DIR/before" "$T_DIR/selected" >/dev/null \
	&& fail "a SELECT did not change the recorded state: the check is blind"

# A decision whose recorded plan cannot be read is counted as such, in
# both forms, and the others are still compared.
ledger_sql "$T_DIR/state-$u" "UPDATE decisions SET actions = 'kept'
	WHERE id = (SELECT min(id) FROM decisions)"
"$MAILSIFT" preview -c "$T_DIR/c.json" > "$T_DIR/unread.txt" \
	|| fail "preview with an unreadable decision failed"
grep -q "^0 of 3 decisions would change; 1 decisions could not be read" \
	"$T_DIR/unread.txt" || fail "unreadable decision: $(cat "$T_DIR/unread.txt")"
"$MAILSIFT" preview -c "$T_DIR/c.json" --json > "$T_DIR/unread.json" \
	|| fail "preview --json with an unreadable decision failed"
$PY - "$T_DIR/unread.json" <<'PY' || fail "JSON: $(cat "$T_DIR/unread.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert (r["examined"], r["unreadable"], r["changes"]) == (3, 1, []), r
PY

# A broken script: SCRIPT:LINE: message, exit 2, as check reports it.
printf 'require "fileinto";\nif true {\n  fileinto "A"\n}\n' > "$T_DIR/broken.sieve"
"$MAILSIFT" preview -c "$T_DIR/c.json" --script "$T_DIR/broken.sieve" \
	> "$T_DIR/broken.out" 2> "$T_DIR/broken.err"
assert_eq 2 "$?" "exit status for a broken script"
grep -q "^$T_DIR/broken.sieve:[0-9]*: " "$T_DIR/broken.err" \
	|| fail "no SCRIPT:LINE: message: $(cat "$T_DIR/broken.err")"
echo "ok"
