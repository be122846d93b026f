#!/usr/bin/env bash
# t_run_config.sh - configuration and script problems stop mailsift with
# exit status 2 and a message naming the key or line, before it connects;
# usage errors too.
. "$(dirname "$0")/lib.sh"

new_user
expect_exit() {
	local want=$1 what=$2; shift 2
	local rc=0
	"$@" > "$T_DIR/out.log" 2>&1 || rc=$?
	assert_eq "$want" "$rc" "$what: exit status ($(head -5 "$T_DIR/out.log"))"
}

printf '{ "imap": { "host": "127.0.0.1", "prot": 1 } }' > "$T_DIR/typo.json"
expect_exit 2 "unknown key" "$MAILSIFT" run -c "$T_DIR/typo.json" --once
grep -q "imap.prot" "$T_DIR/out.log" || fail "unknown key not named: $(cat "$T_DIR/out.log")"
grep -q "typo.json" "$T_DIR/out.log" || fail "file not named"

printf '{ "imap": ' > "$T_DIR/broken.json"
expect_exit 2 "broken JSON" "$MAILSIFT" run -c "$T_DIR/broken.json" --once
expect_exit 2 "missing file" "$MAILSIFT" run -c "$T_DIR/none.json" --once
expect_exit 2 "no -c" "$MAILSIFT" run --once
expect_exit 2 "unknown option" "$MAILSIFT" run --bogus
expect_exit 2 "unknown command" "$MAILSIFT" frobnicate
expect_exit 0 "help" "$MAILSIFT" run --help
expect_exit 0 "version" "$MAILSIFT" --version
grep -q "^mailsift [0-9]" "$T_DIR/out.log" || fail "version text"

printf 'require "fileinto";\nif header :is "Subject" "x" {\n  fileinto "A"\n}\n' > "$T_DIR/bad.sieve"
write_config "$T_DIR/c.json" "sieve=$T_DIR/bad.sieve"
expect_exit 2 "broken script" "$MAILSIFT" run -c "$T_DIR/c.json" --once
grep -q "bad.sieve:4" "$T_DIR/out.log" || fail "script error without line: $(cat "$T_DIR/out.log")"

write_config "$T_DIR/wrongpw.json" "password_command=echo wrong"  -imap.password_file
expect_exit 1 "wrong password" "$MAILSIFT" run -c "$T_DIR/wrongpw.json" --once
grep -qi "login" "$T_DIR/out.log" || fail "login failure not explained: $(cat "$T_DIR/out.log")"
grep -q "wrong" "$T_DIR/out.log" && fail "the password appears in the log"
# A broken IMAP module is a clear runtime error, not a crash.
mkdir -p "$T_DIR/bin"
cp "$MAILSIFT" "$T_DIR/bin/mailsift"
echo "not a shared object" > "$T_DIR/bin/mailsift-imap.so"
write_config "$T_DIR/good.json"
expect_exit 1 "unloadable IMAP module" "$T_DIR/bin/mailsift" run -c "$T_DIR/good.json" --once
grep -q "cannot load .*mailsift-imap.so" "$T_DIR/out.log" \
	|| fail "module error unclear: $(cat "$T_DIR/out.log")"
# The classifier's commands do not need it.
echo "Subject: hi" | "$T_DIR/bin/mailsift" score --db "$T_DIR/t.db" >/dev/null 2>&1 \
	|| fail "score needed the IMAP module"
echo ok
