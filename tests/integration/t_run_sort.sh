#!/usr/bin/env bash
# t_run_sort.sh - mailsift run --once against real Dovecot: a message that
# matches the owner's Sieve rule is moved to its folder with its bytes
# intact and its flags set; a plain message stays in INBOX unread; a
# second run changes nothing; non-ASCII folder names work; `mailsift
# status` explains each decision with the classifier's evidence.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require ["fileinto", "imap4flags"];
if header :contains "Subject" "[dev]" {
    fileinto :flags "$List" "Lists/dev";
} elsif header :contains "Subject" "Rechnung" {
    fileinto "Büro/Rechnungen";
}
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"

make_msg "$T_DIR/list.eml" "From: dev@lists.example.org" "To: $u@example.org" \
	"Subject: [dev] release 1.2" "body=line one" >/dev/null
make_msg "$T_DIR/plain.eml" "From: friend@example.net" "To: $u@example.org" \
	"Subject: lunch?" "body=About the meeting: the release moves again." \
	>/dev/null
make_msg "$T_DIR/invoice.eml" "From: billing@example.com" "To: $u@example.org" \
	"Subject: Ihre Rechnung" >/dev/null
imap_append "$u" INBOX "$T_DIR/list.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/plain.eml" >/dev/null
imap_append "$u" INBOX "$T_DIR/invoice.eml" >/dev/null
mkdir -p "$T_DIR/state-$u"
train_background "$T_DIR/state-$u/tokens.db" 4

"$MAILSIFT" run -c "$T_DIR/c.json" --once -v || fail "mailsift run --once failed"

assert_eq 1 "$(imap_count "$u" INBOX)" "messages left in INBOX"
assert_eq 1 "$(imap_count "$u" Lists/dev)" "messages in Lists/dev"
assert_eq 1 "$(imap_count "$u" "Büro/Rechnungen")" "messages in Büro/Rechnungen"
uid=$(imap_uids "$u" Lists/dev | head -1)
cmp <(tr -d '\r' < "$T_DIR/list.eml") <(imap_fetch_raw "$u" Lists/dev "$uid") \
	|| fail "the moved message's bytes changed"
case " $(imap_flags "$u" Lists/dev "$uid") " in
*' $List '*) ;;
*) fail "flag \$List missing: $(imap_flags "$u" Lists/dev "$uid")" ;;
esac
uid=$(imap_uids "$u" INBOX | head -1)
assert_eq "" "$(imap_flags "$u" INBOX "$uid")" "flags of the kept message (must stay unread)"

# A second run finds nothing new and moves nothing.
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "second run failed"
assert_eq 1 "$(imap_count "$u" INBOX)" "INBOX after second run"
assert_eq 1 "$(imap_count "$u" Lists/dev)" "Lists/dev after second run"

# The decisions are explained.
"$MAILSIFT" status -c "$T_DIR/c.json" --json > "$T_DIR/status.json" \
	|| fail "mailsift status failed"
grep -Eq '"dest_folder": ?"Lists/dev"' "$T_DIR/status.json" \
	|| fail "status lacks the move: $(cat "$T_DIR/status.json")"
grep -Eq '"state": ?"done"' "$T_DIR/status.json" || fail "no done decision"
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.txt" \
	|| fail "mailsift status failed"
grep -q 'evidence for ham: .*body phrase "the release" (0 spam, 4 ham)' \
	"$T_DIR/status.txt" || fail "status lacks the evidence: $(cat "$T_DIR/status.txt")"
echo ok
