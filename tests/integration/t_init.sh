#!/usr/bin/env bash
# t_init.sh - `mailsift init` against the test Dovecot: the self-signed
# certificate is refused and shown (subject, issuer, validity, SHA-256 as
# openssl computes it) with how to trust it, then accepted with
# --ca-file; the configuration is written with mode 0600 and never
# overwritten without --force; a good login lists the mailboxes, names
# the Junk and Trash folders and how they were found and the
# capabilities, and prints the next steps; the daemon runs with the file
# and `mailsift status` shows the same connection facts; a bad password is
# reported; a broken configuration writes nothing; as root, the owner of
# the password file (the daemon's user) may read the configuration.
. "$(dirname "$0")/lib.sh"

[ -n "${IMAP_CAFILE:-}" ] || fail "the test server has no TLS (IMAP_CAFILE unset)"
new_user
u=$IMAP_USER
imap_create "$u" Junk		# carries \Junk; Trash does not exist yet
mkdir -p "$T_DIR/etc"
cfg=$T_DIR/etc/$u.json
init() {
	"$MAILSIFT" init -c "$1" --host 127.0.0.1 --port "$IMAPS_PORT" \
		--user "$u" --state-dir "$T_DIR/state-$u" "${@:2}" \
		> "$T_DIR/init.out" 2>&1
	rc=$?
	cat "$T_DIR/init.out"
}
want() { grep -qF -- "$1" "$T_DIR/init.out" || fail "init output lacks: $1"; }

# The self-signed certificate: refused, shown, and how to trust it.
fp=$(openssl x509 -noout -fingerprint -sha256 -in "$IMAP_CAFILE" | sed 's/.*=//')
init "$cfg" --password-file "$T_DIR/$u.pass"
assert_eq 1 "$rc" "exit status with an untrusted certificate"
want "wrote $cfg (mode 0600)"
assert_eq 600 "$(stat -c %a "$cfg")" "mode of the configuration"
want "not trusted (self-signed)"
want "SHA-256: $fp"
want "subject: "
want "issuer: "
want "valid: "
want "openssl s_client -connect 127.0.0.1:$IMAPS_PORT -showcerts"
want "--ca-file"

# An existing file is kept without --force.
cp "$cfg" "$T_DIR/before.json"
init "$cfg" --password-file "$T_DIR/$u.pass" --ca-file "$IMAP_CAFILE"
assert_eq 2 "$rc" "exit status when the file exists"
want "exists already; give --force"
cmp -s "$cfg" "$T_DIR/before.json" || fail "init changed $cfg without --force"

# Trusted with --ca-file: the whole tour.
init "$cfg" --password-file "$T_DIR/$u.pass" --ca-file "$IMAP_CAFILE" --force
assert_eq 0 "$rc" "exit status of a working configuration"
assert_eq 600 "$(stat -c %a "$cfg")" "mode of the replaced configuration"
want "certificate verified:"
want "SHA-256: $fp"
want "logged in as $u"
want "capabilities: IDLE yes, MOVE yes, UIDPLUS yes, CONDSTORE yes"
want "mailboxes (2): INBOX, Junk"
want "junk folder: Junk (SPECIAL-USE)"
want "trash folder: Trash (by name; created when first needed)"
want "mailsift train -c $cfg --from-folders"
want "mailsift check -c $cfg"
want "systemctl enable --now mailsift@$u"
grep -q '"ca_file"' "$cfg" || fail "ca_file not written: $(cat "$cfg")"

# The daemon takes the file as it is, and status tells what it saw.
"$MAILSIFT" check -c "$cfg" || fail "mailsift check refuses the written file"
"$MAILSIFT" run -c "$cfg" --once || fail "run --once with the written file failed"
"$MAILSIFT" status -c "$cfg" > "$T_DIR/status.txt" || fail "status failed"
cat "$T_DIR/status.txt"
for line in "IDLE yes, MOVE yes, UIDPLUS yes, CONDSTORE yes" \
    "junk folder: Junk (SPECIAL-USE)" "trash folder: Trash (by name" \
    "SHA-256: $fp"; do
	grep -qF "$line" "$T_DIR/status.txt" || fail "status lacks: $line"
done
"$MAILSIFT" status -c "$cfg" --json | grep -q '"CONDSTORE": *true' \
	|| fail "status --json lacks the capabilities"

# A wrong password.
printf 'wrong\n' > "$T_DIR/wrong.pass"
chmod 0600 "$T_DIR/wrong.pass"
init "$T_DIR/etc/wrong.json" --password-file "$T_DIR/wrong.pass" \
	--ca-file "$IMAP_CAFILE"
assert_eq 1 "$rc" "exit status with a wrong password"
want "login failed for user $u"

# A configuration the daemon would refuse is not written.
"$MAILSIFT" init -c "$T_DIR/etc/plain.json" --host imap.example.org \
	--tls none --user "$u" --password-file "$T_DIR/$u.pass" \
	> "$T_DIR/init.out" 2>&1
rc=$?
assert_eq 2 "$rc" "exit status of a refused configuration"
want "would send the password unencrypted"
[ -e "$T_DIR/etc/plain.json" ] && fail "a refused configuration was written"

# A port that is no port is refused as given, not as another number.
for port in 99999999999 0 "" 12x; do
	"$MAILSIFT" init -c "$T_DIR/etc/port.json" --host 127.0.0.1 \
		--port "$port" --user "$u" --password-file "$T_DIR/$u.pass" \
		> "$T_DIR/init.out" 2>&1
	rc=$?
	assert_eq 2 "$rc" "exit status for --port '$port'"
	want "--port '$port': give a port number from 1 to 65535"
	[ -e "$T_DIR/etc/port.json" ] && fail "written with --port '$port'"
done

# As root, for a password file that the daemon's user owns (README: the
# unit's user mailsift owns it), that user can read the configuration
# too: README's next step trains as that user, and the unit runs as it.
if [ "$(id -u)" = 0 ]; then
	install -m 0600 -o nobody "$T_DIR/$u.pass" "$T_DIR/etc/nobody.pass"
	init "$T_DIR/etc/for-nobody.json" --password-file "$T_DIR/etc/nobody.pass" \
		--ca-file "$IMAP_CAFILE"
	assert_eq 0 "$rc" "exit status of init for another user's password file"
	want "wrote $T_DIR/etc/for-nobody.json (mode 0640, group nogroup"
	assert_eq "root nogroup 640" \
		"$(stat -c '%U %G %a' "$T_DIR/etc/for-nobody.json")" \
		"owner, group and mode of that configuration"
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$MAILSIFT" check -c "$T_DIR/etc/for-nobody.json" 2>&1) ||
		fail "the password file's owner cannot use the configuration: $out"
fi
echo ok
