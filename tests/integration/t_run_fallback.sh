#!/usr/bin/env bash
# t_run_fallback.sh - servers without MOVE (COPY + UID EXPUNGE of that
# message only), without UIDPLUS (the original stays, flagged \Deleted,
# and nobody else's \Deleted mail is expunged) and without IDLE (polling).
. "$(dirname "$0")/lib.sh"

cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "move me" { fileinto "Moved"; }
SIEVE

# No MOVE: the copy is made and only our original is expunged.
new_user
u=$IMAP_USER
make_msg "$T_DIR/m.eml" "From: a@example.org" "Subject: move me" >/dev/null
make_msg "$T_DIR/d.eml" "From: a@example.org" "Subject: someone else's" >/dev/null
imap_append "$u" INBOX "$T_DIR/d.eml" '\Deleted' >/dev/null
imap_append "$u" INBOX "$T_DIR/m.eml" >/dev/null
write_config "$T_DIR/c1.json" "sieve=$T_DIR/rules.sieve" host=$IMAP_HOST_NOMOVE
"$MAILSIFT" run -c "$T_DIR/c1.json" --once -v || fail "run without MOVE failed"
assert_eq 1 "$(imap_count "$u" Moved)" "copied"
assert_eq 1 "$(imap_count "$u" INBOX)" "the other \\Deleted message survives"

# No MOVE, no UIDPLUS, no IDLE: the original stays flagged; polling works.
new_user
u=$IMAP_USER
imap_append "$u" INBOX "$T_DIR/d.eml" '\Deleted' >/dev/null
write_config "$T_DIR/c2.json" "sieve=$T_DIR/rules.sieve" host=$IMAP_HOST_MINIMAL \
	poll_interval=1
bg_start "$T_DIR/d.log" "$MAILSIFT" run -c "$T_DIR/c2.json" -v
pid=$BG_PID
sleep 1
imap_append "$u" INBOX "$T_DIR/m.eml" >/dev/null
wait_until 15 count_is "$u" Moved 1
bg_stop "$pid" || fail "daemon exit status $?"
assert_eq 2 "$(imap_count "$u" INBOX)" "nothing expunged without UIDPLUS"
for uid in $(imap_uids "$u" INBOX); do
	case " $(imap_flags "$u" INBOX "$uid") " in
	*' \Deleted '*) ;;
	*) fail "uid $uid is not flagged \\Deleted" ;;
	esac
done
echo ok
