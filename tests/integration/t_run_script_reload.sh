#!/usr/bin/env bash
# t_run_script_reload.sh - the daemon picks up an edited script without a
# restart; a broken edit is reported (log and status) and the last good
# script stays in force.
. "$(dirname "$0")/lib.sh"

new_user
u=$IMAP_USER
cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "alpha" { fileinto "A"; }
SIEVE
write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve"
bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c.json" -v
pid=$BG_PID
sleep 1
make_msg "$T_DIR/a.eml" "From: x@example.org" "Subject: alpha" >/dev/null
imap_append "$u" INBOX "$T_DIR/a.eml" >/dev/null
wait_until 10 count_is "$u" A 1

# A good edit, written the way editors do (new file, rename).
cat > "$T_DIR/rules.new" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "alpha" { fileinto "A"; }
if header :contains "Subject" "beta" { fileinto "B"; }
SIEVE
mv "$T_DIR/rules.new" "$T_DIR/rules.sieve"
wait_until 10 grep -q "reloaded sieve script" "$T_DIR/d.log"
make_msg "$T_DIR/b.eml" "From: x@example.org" "Subject: beta" >/dev/null
imap_append "$u" INBOX "$T_DIR/b.eml" >/dev/null
wait_until 10 count_is "$u" B 1

# Other files next to the script are none of its business.
echo unrelated > "$T_DIR/neighbour.txt"
touch "$T_DIR/rules.sieve.swp"
sleep 1
assert_eq 1 "$(grep -c "reloaded sieve script" "$T_DIR/d.log")" "reloads"

# A broken edit: reported, and the previous script still sorts.
printf 'require "fileinto";\nif header :contains "Subject" "beta" {\n fileinto "C"\n' > "$T_DIR/rules.sieve"
wait_until 10 grep -q "previous version stays in force" "$T_DIR/d.log"
"$MAILSIFT" status -c "$T_DIR/c.json" > "$T_DIR/status.txt" || fail "status failed"
grep -q "previous script in force" "$T_DIR/status.txt" \
	|| fail "status does not show the broken edit: $(cat "$T_DIR/status.txt")"
make_msg "$T_DIR/b2.eml" "From: x@example.org" "Subject: beta again" >/dev/null
imap_append "$u" INBOX "$T_DIR/b2.eml" >/dev/null
wait_until 10 count_is "$u" B 2
assert_eq 0 "$(imap_count "$u" C)" "nothing filed by the broken script"
bg_stop "$pid" || fail "daemon exit status $?"
echo ok
