#!/usr/bin/env bash
# t_store_imap.sh - the IMAP store (agent/store_imap.c) against Dovecot:
# runs the check program build/itests/check_store_imap with two fresh
# users (the second one stays without mailboxes for the special-use case).
. "$(dirname "$0")/lib.sh"

prog=$ITESTS/check_store_imap
[ -x "$prog" ] || fail "$prog not built (make $prog)"
[ -n "${IMAP_CAFILE:-}" ] || fail "the run did not start Dovecot with TLS"

# A CA that did not sign the server's certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
	-keyout "$T_DIR/other.key" -out "$T_DIR/other.pem" >/dev/null 2>&1 \
	|| fail "openssl could not create a certificate"
export OTHER_CAFILE=$T_DIR/other.pem

# A user Dovecot cannot look up (unreadable passwd-file): its LOGIN gets
# "[UNAVAILABLE] Temporary authentication failure".
printf 'store_tmpfail:{PLAIN}x::::::\n' > "$DOVECOT_DIR/passwd.d/store_tmpfail"
chmod 000 "$DOVECOT_DIR/passwd.d/store_tmpfail"
export IMAP_USER_TMPFAIL=store_tmpfail

new_user store2
IMAP_USER2=$IMAP_USER IMAP_PASS2=$IMAP_PASS
new_user store
export IMAP_USER2 IMAP_PASS2

"$prog"
