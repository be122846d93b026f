#!/usr/bin/env bash
# t_run_folders.sh - Junk and Trash on a server without special-use
# attributes and with Courier's namespace (Dovecot posing as a small
# server: prefix "INBOX.", separator "."): existing folders with the names
# servers use (Spam, Deleted Items) are chosen, and the log says why;
# Sieve's discard then lands in "INBOX.Deleted Items".  A configured
# folders.junk written in the server's form ("INBOX.Junk") is the same
# folder as "Junk", and is shown so.
. "$(dirname "$0")/lib.sh"

NEW_USER_QUIRKS=1 new_user
u=$IMAP_USER
imap_create "$u" "INBOX.Spam"
imap_create "$u" "INBOX.Deleted Items"
cat > "$T_DIR/rules.sieve" <<'SIEVE'
if header :contains "Subject" "drop me" { discard; }
SIEVE
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: drop me" >/dev/null
imap_append "$u" INBOX "$T_DIR/m.eml" >/dev/null
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" host=$IMAP_HOST_QUIRKS
"$MAILSIFT" run -c "$T_DIR/c.json" --once -v > "$T_DIR/run.log" 2>&1 \
	|| fail "run failed: $(cat "$T_DIR/run.log")"
cat "$T_DIR/run.log"
grep -q "junk folder 'Spam': no folder carries \\\\Junk, and this is the usual name of one" \
	"$T_DIR/run.log" || fail "Spam was not chosen as the junk folder"
grep -q "trash folder 'Deleted Items': no folder carries \\\\Trash" "$T_DIR/run.log" \
	|| fail "Deleted Items was not chosen as the trash folder"
assert_eq 1 "$(imap_count "$u" "INBOX.Deleted Items")" "messages in INBOX.Deleted Items"
assert_eq 0 "$(imap_count "$u" INBOX)" "messages in INBOX"
grep -q "move to 'Deleted Items'" "$T_DIR/run.log" \
	|| fail "the log does not show the folder as the owner writes it"

# folders.junk in the server's own spelling is the owner's "Junk".
write_config "$T_DIR/c2.json" host=$IMAP_HOST_QUIRKS junk=INBOX.Junk \
	"state_dir=$T_DIR/state2"
"$MAILSIFT" run -c "$T_DIR/c2.json" --once -v > "$T_DIR/run2.log" 2>&1 \
	|| fail "run failed: $(cat "$T_DIR/run2.log")"
grep -q "junk folder 'Junk': folders.junk" "$T_DIR/run2.log" \
	|| fail "folders.junk INBOX.Junk not shown as Junk: $(cat "$T_DIR/run2.log")"
echo ok
