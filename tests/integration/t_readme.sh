#!/usr/bin/env bash
# t_readme.sh - README.md as a new user follows it, against the suite's
# Dovecot over implicit TLS: the example configuration of "Pointing it at
# a real account" (only the server, the credentials and the /etc and
# /var paths changed), the Sieve section's example script, and every
# `mailsift ...` command that section gives, in its order (init, train
# --from-folders, check, sieve-test, preview, run --once, status, the
# backlog runs).  A README edit that breaks a documented command or the
# example fails here, with the command as README spells it.
. "$(dirname "$0")/lib.sh"

README=$(cd "$LIB_DIR/../.." && pwd)/README.md
section=$(sed -n '/^## Pointing it at a real account$/,/^#/{/^## Pointing/d;/^#/d;p}' "$README")
export README_SECTION=$section
[ -n "$section" ] || fail "README.md has no '## Pointing it at a real account' section"

new_user
u=$IMAP_USER
etc=$T_DIR/etc
# /etc/mailsift and /var/lib/mailsift, as the package makes them.
mkdir -p "$etc" "$T_DIR/state" "$T_DIR/msgs"

# The example configuration: the first json block of the section.
example=$(awk '/^ *```json$/ { on = 1; next } on && /^ *```$/ { exit } on' <<<"$section")
[ -n "$example" ] || fail "no json block in README's 'Pointing it at a real account'"
README_JSON=$example python3 - "$etc/alice.json" "$IMAPS_PORT" "$IMAP_CAFILE" \
	"$u" "$etc" "$T_DIR/state" <<'EOF' || fail "README's example configuration: see above"
import json, os, sys
out, port, cafile, user, etc, state = sys.argv[1:]
c = json.loads(os.environ["README_JSON"])
imap = c["imap"]
imap.update(host="127.0.0.1", port=int(port), ca_file=cafile, username=user,
            password_file=etc + "/alice.pass")
# Paths only: the documented layout, moved under the test's directory.
c["sieve"] = c["sieve"].replace("/etc/mailsift", etc)
c["state_dir"] = c["state_dir"].replace("/var/lib/mailsift", state)
json.dump(c, open(out, "w"), indent=2)
EOF
cp "$T_DIR/$u.pass" "$etc/alice.pass"
sieve=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sieve"])' "$etc/alice.json")

# The Sieve section's example is the script.
sed -n '/^## Sieve$/,/^## /p' "$README" |
	awk '/^```sieve$/ { on = 1; next } on && /^```$/ { exit } on' > "$sieve"
[ -s "$sieve" ] || fail "no sieve block in README's Sieve section"
grep -q 'fileinto "Lists/\${2}"' "$sieve" ||
	fail "README's Sieve example changed: update this test's list mail ($(cat "$sieve"))"

# The account as a new user has it: sorted mail, read, and new mail.
for i in 1 2 3; do
	make_msg "$T_DIR/msgs/s$i.eml" "From: promo$i@bulk.example" \
		"Subject: cheap pills $i" "body=Buy cheap pills now, discreet shipping $i" >/dev/null
	imap_append "$u" Junk "$T_DIR/msgs/s$i.eml" '\Seen' >/dev/null
	make_msg "$T_DIR/msgs/h$i.eml" "From: colleague$i@work.example" \
		"Subject: minutes $i" "body=Minutes of the meeting about the roadmap $i." >/dev/null
	imap_append "$u" INBOX "$T_DIR/msgs/h$i.eml" '\Seen' >/dev/null
done
make_msg "$T_DIR/msgs/spam.eml" "From: promo9@bulk.example" \
	"Subject: cheap pills again" "body=Buy cheap pills now, discreet shipping" >/dev/null
list_id=$(make_msg "$T_DIR/msgs/list.eml" "From: dev@lists.example.org" \
	"List-Id: Developers <dev.lists.example.org>" "Subject: release" \
	"body=The release is out.")
cp "$sieve" "$T_DIR/new.sieve"
echo 'if header :contains "Subject" "release" { fileinto "Releases"; }' \
	>> "$T_DIR/new.sieve"

# Every `mailsift ...` of the section, as written, with the paths above.
# In the order README gives them: code spans in the text, and lines of
# sh blocks (comments dropped, continued lines joined).
commands=$(python3 - <<'EOF'
import re, os
in_sh, cont = False, ""
for line in os.environ["README_SECTION"].split("\n"):
    if re.match(r"^ *```sh$", line):
        in_sh = True
    elif in_sh and re.match(r"^ *```$", line):
        in_sh = False
    elif in_sh:
        line = cont + re.sub(r"\s+#.*", "", line).strip()
        cont = line[:-1] + " " if line.endswith("\\") else ""
        if not cont:
            print(line)
    else:
        for span in re.findall(r"`([^`]*mailsift [a-z-]+ [^`]*)`", line):
            print(span)
EOF
)
ran=0 delivered=0 trained=0
while IFS= read -r cmd; do
	cmd=${cmd#\*/5 \* \* \* \* }
	cmd=${cmd#sudo -u mailsift }
	case "$cmd" in
	mailsift\ *) ;;
	*) continue ;;
	esac
	case "$cmd" in
	*CONFIG*|*...*|*~*) continue ;;		# placeholders
	"mailsift run -c "*--once*) ;;
	"mailsift run "*) continue ;;	# the daemon, or prose about --once
	esac
	# New mail arrives once the classifier has had its head start.
	if [ "$delivered" = 0 ] && [ "$trained" = 1 ] &&
	    [[ "$cmd" != "mailsift train "* ]]; then
		imap_append "$u" INBOX "$T_DIR/msgs/spam.eml" >/dev/null
		imap_append "$u" INBOX "$T_DIR/msgs/list.eml" >/dev/null
		delivered=1
	fi
	run=$cmd
	if [[ "$cmd" == "mailsift init "* ]]; then
		# Another file than the hand-written one below; this server.
		run=${run//\/etc\/mailsift\/alice.json/$etc/alice-init.json}
		run=${run//--host imap.example.org/--host 127.0.0.1 --port $IMAPS_PORT --ca-file $IMAP_CAFILE}
		run=${run//--user alice/--user $u}
		run="$run --state-dir $T_DIR/state/alice-init"
	fi
	run=${run//\/etc\/mailsift\/alice.json/$etc/alice.json}
	run=${run//\/etc\/mailsift\/alice.sieve/$sieve}
	run=${run//\/etc\/mailsift\/alice.pass/$etc/alice.pass}
	run=${run//new.sieve/$T_DIR/new.sieve}
	run=${run//msg.eml/$T_DIR/msgs/spam.eml}
	run=${run/#mailsift /$MAILSIFT }
	echo "\$ $cmd"
	out=$(eval "$run" 2>&1) || fail "README's '$cmd' failed: $out"
	echo "$out"
	ran=$((ran + 1))
	[[ "$cmd" == "mailsift train "* ]] && trained=1
done <<<"$commands"
[ "$ran" -ge 9 ] || fail "only $ran of README's commands ran: $commands"

# What README's walkthrough and example promise came true.
assert_eq 4 "$(imap_count "$u" Junk)" "Junk: the three trained and the new spam"
assert_eq 1 "$(imap_count "$u" Lists/dev)" "Lists/dev: the list mail, by the example script"
[ -n "$(imap_search "$u" Lists/dev header Message-ID "$list_id")" ] ||
	fail "the list mail is not in Lists/dev"
assert_eq 3 "$(imap_count "$u" INBOX)" "INBOX: the three read messages"
echo ok
