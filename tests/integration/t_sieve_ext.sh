#!/usr/bin/env bash
# t_sieve_ext.sh - issue 13's Sieve extensions against real Dovecot, as
# the daemon runs them: include reads a script beside the configured one
# (through a symlink), mailboxexists answers from the server's folder
# list, duplicate remembers Message-IDs in the ledger across messages of
# one run and across runs, variables name folders, body reads a decoded
# part.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
mkdir -p "$T_DIR/scripts"
cat > "$T_DIR/scripts/lists.sieve" <<'SIEVE'
require ["variables", "include"];
global "list";
if header :matches "List-Id" "*<*.*>*" { set :lower "list" "${2}"; }
SIEVE
cat > "$T_DIR/scripts/main.sieve" <<'SIEVE'
require ["fileinto", "mailbox", "duplicate", "variables", "include",
         "body"];
global "list";
include "lists";
if allof(not string :is "${list}" "", mailboxexists "Lists/${list}") {
    fileinto "Lists/${list}";
    stop;
}
if duplicate { fileinto :create "Dups"; stop; }
if body :text :contains "invoice number" { fileinto :create "Invoices"; }
SIEVE
ln -s "$T_DIR/scripts/main.sieve" "$T_DIR/active.sieve"
write_config "$T_DIR/c.json" "sieve=$T_DIR/active.sieve"
imap_create "$u" Lists/dev

make_msg "$T_DIR/dev.eml" "From: a@lists.example.org" "To: $u@example.org" \
	"List-Id: Developers <DEV.lists.example.org>" "Subject: release" >/dev/null
make_msg "$T_DIR/users.eml" "From: b@lists.example.org" "To: $u@example.org" \
	"List-Id: Users <users.lists.example.org>" "Subject: question" >/dev/null
make_msg "$T_DIR/one.eml" "From: c@example.net" "To: $u@example.org" \
	"Message-ID: <same@example.net>" "Subject: first copy" >/dev/null
make_msg "$T_DIR/two.eml" "From: c@example.net" "To: $u@example.org" \
	"Message-ID: <same@example.net>" "Subject: second copy" >/dev/null
{
	printf 'From: billing@example.com\r\nTo: %s@example.org\r\n' "$u"
	printf 'Subject: your bill\r\nMIME-Version: 1.0\r\n'
	printf 'Content-Type: text/plain; charset=utf-8\r\n'
	printf 'Content-Transfer-Encoding: base64\r\n\r\n'
	printf 'Here is your invoice number 42.\r\n' | base64
} > "$T_DIR/bill.eml"
for m in dev users one two bill; do
	imap_append "$u" INBOX "$T_DIR/$m.eml" >/dev/null
done

"$MAILSIFT" run -c "$T_DIR/c.json" --once -v || fail "mailsift run --once failed"

assert_eq 1 "$(imap_count "$u" Lists/dev)" "messages in Lists/dev"
assert_eq 0 "$(imap_count "$u" Lists/users)" "messages in Lists/users (no such folder)"
assert_eq 1 "$(imap_count "$u" Dups)" "messages in Dups"
assert_eq 1 "$(imap_count "$u" Invoices)" "messages in Invoices"
assert_eq 2 "$(imap_count "$u" INBOX)" "messages left in INBOX (users, first copy)"
uid=$(imap_uids "$u" Dups | head -1)
imap_fetch_raw "$u" Dups "$uid" | grep -q "second copy" \
	|| fail "the first copy was taken for the duplicate"

# A third copy delivered later is a duplicate too: the ID is in the ledger.
make_msg "$T_DIR/three.eml" "From: c@example.net" "To: $u@example.org" \
	"Message-ID: <same@example.net>" "Subject: third copy" >/dev/null
imap_append "$u" INBOX "$T_DIR/three.eml" >/dev/null
"$MAILSIFT" run -c "$T_DIR/c.json" --once || fail "second run failed"
assert_eq 2 "$(imap_count "$u" Dups)" "messages in Dups after the third copy"
assert_eq 2 "$(imap_count "$u" INBOX)" "INBOX after the second run"
[ "$(ledger_sql "$T_DIR/state-$u" 'SELECT count(*) FROM sieve_duplicates')" -ge 1 ] \
	|| fail "no duplicate ID in the ledger"
echo ok
