#!/usr/bin/env bash
# t_learn_bootstrap_names.sh - 'mailsift train --from-folders' takes folder
# names in the server's spelling as the daemon does (README: "the
# server's own spelling (INBOX.Lists.dev) works too"): on a server whose
# personal namespace is "INBOX." with separator "." (Dovecot emulating it,
# and Courier), "--ham-folder INBOX.Junk" is still the Junk folder, which
# is never learned as ham, and a ham folder written "INBOX.Archive" is
# recorded in the ledger as "Archive", the name the daemon uses.
# servers: courier
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/servers.sh"

mkdir -p "$T_DIR/msgs"
for i in 1 2; do
	make_msg "$T_DIR/msgs/s$i.eml" "From: promo$i@bulk.example" \
		"Subject: cheap pills $i" "body=Buy cheap pills now $i" >/dev/null
done
make_msg "$T_DIR/msgs/h1.eml" "From: colleague@work.example" \
	"Subject: minutes" "body=Minutes of the meeting." >/dev/null

for server in dovecot-quirks courier; do
	srv_use "$server"
	srv_new_user
	state=$T_DIR/state-$IMAP_USER
	srv_config "$T_DIR/$server.json" "state_dir=$state"
	for i in 1 2; do
		sx append Junk "$T_DIR/msgs/s$i.eml" >/dev/null \
			|| fail "$server: append to Junk failed"
	done
	sx append Archive "$T_DIR/msgs/h1.eml" '\Seen' >/dev/null \
		|| fail "$server: append to Archive failed"
	assert_eq "INBOX.Junk" "$(sx -r boxes | grep -i '^INBOX.junk$')" \
		"$server: the server's name of Junk"

	out=$("$MAILSIFT" train -c "$T_DIR/$server.json" --from-folders \
		--ham-folder INBOX.Junk --ham-folder INBOX.Archive 2>&1) \
		|| fail "$server: train --from-folders failed: $out"
	echo "$server: $out"
	assert_eq "trained 2 spam and 1 ham; 0 already trained so, 0 skipped, 0 unread left out" \
		"$(grep '^trained' <<<"$out")" "$server: Junk is never ham, whatever its spelling"
	assert_eq "Archive|ham" "$(ledger_sql "$state" "SELECT folder, new_trained
		FROM corrections WHERE folder <> 'Junk'")" \
		"$server: the ham folder in the ledger, in the owner's form"
	assert_eq "" "$(ledger_sql "$state" "SELECT seen_in FROM messages
		WHERE seen_in LIKE 'INBOX.%'")" \
		"$server: no message is seen in a server-form folder"
done
echo ok
