#!/usr/bin/env bash
# t_lib.sh - the helpers of lib.sh against the live Dovecot, so that a
# broken helper shows up here rather than as a puzzling failure elsewhere.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
assert_eq 0 "$(imap_count "$u" INBOX)" "empty INBOX"
assert_eq 0 "$(imap_count "$u" NoSuchBox)" "missing box counts 0"

mid=$(make_msg "$T_DIR/m1.eml" "From: a@example.org" "Subject: one" "body=hello")
uid=$(imap_append "$u" INBOX "$T_DIR/m1.eml")
assert_eq 1 "$uid" "first uid"
uid2=$(imap_append "$u" INBOX "$T_DIR/m1.eml" '\Seen $Junk')
assert_eq 2 "$uid2" "second uid"
assert_eq 2 "$(imap_count "$u" INBOX)" "INBOX count"
assert_eq "1 2" "$(imap_uids "$u" INBOX | paste -sd ' ')" "uids"
assert_eq "" "$(imap_flags "$u" INBOX 1)" "flags of uid 1"
assert_eq '$Junk \Seen' "$(imap_flags "$u" INBOX 2)" "flags of uid 2"
assert_eq "1 2" "$(imap_search "$u" INBOX header message-id "$mid" | paste -sd ' ')" \
	"search by Message-ID"
cmp <(tr -d '\r' < "$T_DIR/m1.eml") <(imap_fetch_raw "$u" INBOX 1) \
	|| fail "fetched bytes differ"

imap_create "$u" "Spam/Ünicode"
imap_move "$u" INBOX 2 "Spam/Ünicode"
assert_eq 1 "$(imap_count "$u" "Spam/Ünicode")" "moved message"
imap_boxes "$u" | grep -qx "Spam/Ünicode" || fail "box list lacks Spam/Ünicode"
# APPEND over IMAP to a non-ASCII name and to one that needs quoting.
uid3=$(imap_append "$u" "Spam/Ünicode" "$T_DIR/m1.eml" '\Flagged')
assert_eq 2 "$uid3" "uid in Spam/Ünicode"
assert_eq '\Flagged' "$(imap_flags "$u" "Spam/Ünicode" 2)" "flags via APPEND"
assert_eq 1 "$(imap_append "$u" 'Say "hi" \ bye' "$T_DIR/m1.eml")" "quoted name"
assert_eq 1 "$(imap_count "$u" 'Say "hi" \ bye')" "count in quoted name"

new_user
[ "$IMAP_USER" != "$u" ] || fail "new_user reused a name"
write_config "$T_DIR/c.json" junk=Junk port=993 "watch=INBOX,Lists/x" -imap.tls tls=starttls \
	timeout=30 'sieve=/p/a "q".sieve'
grep -q "\"port\": 993" "$T_DIR/c.json" || fail "port missing: $(cat "$T_DIR/c.json")"
grep -q '"watch": \["INBOX","Lists/x"\]' "$T_DIR/c.json" || fail "watch list: $(cat "$T_DIR/c.json")"
grep -q '"sieve": "/p/a \\"q\\".sieve"' "$T_DIR/c.json" || fail "quoting: $(cat "$T_DIR/c.json")"
grep -q '"timeout": 30' "$T_DIR/c.json" || fail "number: $(cat "$T_DIR/c.json")"
if command -v python3 >/dev/null; then
	python3 -m json.tool "$T_DIR/c.json" >/dev/null || fail "invalid JSON: $(cat "$T_DIR/c.json")"
fi
cat "$T_DIR/c.json"

start=$(now_ms)
wait_until 5 test -e "$T_DIR/c.json"
( wait_until 1 false ) 2>/dev/null && fail "wait_until did not fail"
echo "ok ($(( $(now_ms) - start )) ms)"

# Restart in place: same port, same users, same mail.
port=$IMAP_PORT
start=$(now_ms)
dovecot_restart
echo "dovecot_restart took $(( $(now_ms) - start )) ms"
assert_eq "$port" "$IMAP_PORT" "port after restart"
assert_eq 2 "$(imap_count "$u" "Spam/Ünicode")" "mail after restart"
exec 3<>"/dev/tcp/$IMAP_HOST/$IMAP_PORT" || fail "no listener after restart"
read -r -t 5 greeting <&3
exec 3<&-
case "$greeting" in "* OK"*) ;; *) fail "greeting after restart: $greeting" ;; esac
