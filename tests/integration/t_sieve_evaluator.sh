#!/usr/bin/env bash
# t_sieve_evaluator.sh - the daemon forks one evaluator helper per script,
# not a child per message: the helper starts with the script, before the
# IMAP libraries are loaded (each message's evaluator is a fork of it, so
# it must stay small), stays the daemon's only child while messages are
# sorted, is replaced when the script is reloaded, and is gone when the
# daemon stops.
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

children() { cat "/proc/$pid/task/$pid/children" 2>/dev/null | xargs; }
one_child() { [ "$(children | wc -w)" = 1 ]; }

for i in 1 2 3; do
	make_msg "$T_DIR/a$i.eml" "From: x@example.org" "Subject: alpha $i" >/dev/null
	imap_append "$u" INBOX "$T_DIR/a$i.eml" >/dev/null
done
wait_until 20 count_is "$u" A 3
wait_until 10 one_child
helper=$(children)
grep -q libetpan "/proc/$helper/maps" \
	&& fail "the evaluator helper was forked after the IMAP libraries were loaded"
for i in 4 5 6; do
	make_msg "$T_DIR/a$i.eml" "From: x@example.org" "Subject: alpha $i" >/dev/null
	imap_append "$u" INBOX "$T_DIR/a$i.eml" >/dev/null
done
wait_until 20 count_is "$u" A 6
assert_eq "$helper" "$(children)" "the daemon's only child, the same helper"

# A reload replaces the helper and reaps the old one.
cat > "$T_DIR/rules.new" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "beta" { fileinto "B"; }
SIEVE
mv "$T_DIR/rules.new" "$T_DIR/rules.sieve"
wait_until 10 grep -q "reloaded sieve script" "$T_DIR/d.log"
make_msg "$T_DIR/b.eml" "From: x@example.org" "Subject: beta" >/dev/null
imap_append "$u" INBOX "$T_DIR/b.eml" >/dev/null
wait_until 20 count_is "$u" B 1
wait_until 10 one_child
[ "$(children)" != "$helper" ] || fail "the old helper still evaluates"
[ -e "/proc/$helper" ] && fail "the old helper $helper was not reaped"
new=$(children)

bg_stop "$pid" || fail "daemon exit status $?"
wait_until 10 eval "[ ! -e /proc/$new ]"
echo ok
