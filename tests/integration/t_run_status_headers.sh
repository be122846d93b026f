#!/usr/bin/env bash
# t_run_status_headers.sh - `mailsift status` names each decision's message
# by its decoded Subject and From next to its Message-ID, so the owner can
# find it: RFC 2047 words decoded, control characters (a terminal escape)
# made harmless, a long Subject cut; decisions recorded before mailsift
# kept these fields still display.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
write_config "$T_DIR/c.json"
long=$(printf 'word%.0s ' $(seq 1 60))
mid1=$(make_msg "$T_DIR/m1.eml" \
	"From: =?ISO-8859-1?Q?J=F6rg_M=FCller?= <joerg@example.net>" \
	"Subject: =?UTF-8?B?UmVjaG51bmcgZsO8ciBEZXplbWJlcg==?=")
mid2=$(make_msg "$T_DIR/m2.eml" "From: plain@example.org" \
	"Subject: $(printf 'evil \033[2J clear') $long")
make_msg "$T_DIR/m3.eml" "From: nobody@example.org" >/dev/null
imap_append "$u" INBOX "$T_DIR/m1.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/m2.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/m3.eml" >/dev/null
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "run --once failed"

"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.txt" || fail "status failed"
cat "$T_DIR/status.txt"
grep -qF "$mid1" "$T_DIR/status.txt" || fail "no Message-ID"
grep -q "^    From: Jörg Müller <joerg@example.net>$" "$T_DIR/status.txt" \
	|| fail "From not decoded"
grep -q "^    Subject: Rechnung für Dezember$" "$T_DIR/status.txt" \
	|| fail "Subject not decoded"
grep -q $'\033' "$T_DIR/status.txt" && fail "a terminal escape reached the output"
line=$(grep "^    Subject: evil" "$T_DIR/status.txt") || fail "no long Subject"
[ "${#line}" -le 133 ] || fail "long Subject not cut (${#line} chars)"
[[ $line == *... ]] || fail "a cut Subject does not end in '...': $line"
grep -q "^    Subject: (none)$" "$T_DIR/status.txt" \
	|| fail "a message without Subject is not shown as such"
"$MAILSIFT" status -c "$T_DIR/c.json" --json > "$T_DIR/status.json"
grep -Eq '"subject": ?"Rechnung für Dezember"' "$T_DIR/status.json" \
	|| fail "status --json lacks the subject: $(cat "$T_DIR/status.json")"
grep -Eq '"from": ?"Jörg Müller <joerg@example.net>"' "$T_DIR/status.json" \
	|| fail "status --json lacks the sender"

# A decision from before these fields: shown without them.
ledger_sql "$T_DIR/state-$u" "UPDATE decisions SET subject = NULL, sender = NULL"
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/old.txt" || fail "status of old rows failed"
grep -qF "$mid2" "$T_DIR/old.txt" || fail "old decision not shown: $(cat "$T_DIR/old.txt")"
grep -q "Subject:" "$T_DIR/old.txt" && fail "old decision shows a Subject"
"$MAILSIFT" status -c "$T_DIR/c.json" --json | grep -Eq '"subject": ?null' \
	|| fail "status --json of an old decision"
echo ok
