# servers.sh - one face for every IMAP server of the suite, for tests that
# run the same steps against each (t_servers_*.sh).  Source it after
# lib.sh.  A test that needs Cyrus or Courier says so on a line of its own
#     # servers: cyrus courier
# and tests/integration/run starts them once for the whole run (as root;
# otherwise it exports SERVERS_SKIP with the reason).
#
#   srv_use NAME         picks the server: dovecot, dovecot-quirks (Dovecot
#                        with Courier's namespace and a small capability
#                        list, see dovecot-start), cyrus or courier; sets
#                        SRV SRV_HOST SRV_PORT SRV_TLS_PORT SRV_CAFILE.
#                        Exit 77 (skipped) when the server is not there.
#   srv_new_user         a new user on it: IMAP_USER IMAP_PASS, and the
#                        password in $T_DIR/$IMAP_USER.pass
#   sx [-r] CMD ARGS...  the imapc client as that user (names in the
#                        owner's form: "Lists/dev"; -r: the server's)
#   srv_config FILE ARGS...  write_config for that server and user
#   srv_restart          stops and starts the server in place (same
#                        ports, users, mail); clients are disconnected
#   srv_break BOX / srv_mend BOX   makes BOX refuse new messages (COPY,
#                        MOVE, APPEND), and accept them again

srv_use() {
	SRV=$1
	case "$SRV" in
	dovecot|dovecot-quirks)
		SRV_HOST=$IMAP_HOST SRV_PORT=$IMAP_PORT
		SRV_TLS_PORT=$IMAPS_PORT SRV_CAFILE=$IMAP_CAFILE
		[ "$SRV" = dovecot-quirks ] && SRV_HOST=$IMAP_HOST_QUIRKS
		;;
	cyrus|courier)
		if [ -n "${SERVERS_SKIP:-}" ]; then
			echo "SKIP: $SRV: $SERVERS_SKIP"
			exit 77
		fi
		local dir
		[ "$SRV" = cyrus ] && dir=${CYRUS_DIR:-} || dir=${COURIER_DIR:-}
		[ -n "$dir" ] && [ -f "$dir/env" ] \
			|| fail "$SRV is not running (does the test say '# servers: $SRV'?)"
		. "$dir/env"
		SRV_HOST=127.0.0.1
		if [ "$SRV" = cyrus ]; then
			SRV_PORT=$CYRUS_PORT SRV_TLS_PORT=$CYRUS_TLS_PORT
			SRV_CAFILE=$CYRUS_CAFILE
		else
			SRV_PORT=$COURIER_PORT SRV_TLS_PORT=$COURIER_TLS_PORT
			SRV_CAFILE=$COURIER_CAFILE
		fi
		;;
	*) fail "srv_use: unknown server '$SRV'" ;;
	esac
	export SRV SRV_HOST SRV_PORT SRV_TLS_PORT SRV_CAFILE
}

srv_new_user() {
	local name
	case "$SRV" in
	dovecot) new_user ;;
	dovecot-quirks) NEW_USER_QUIRKS=1 new_user ;;
	cyrus|courier)
		LIB_USER_SEQ=$((LIB_USER_SEQ + 1))
		name="${T_NAME}_${LIB_USER_SEQ}"
		IMAP_USER=$name
		IMAP_PASS="pw-$name-$RANDOM"
		if [ "$SRV" = cyrus ]; then
			printf '%s' "$IMAP_PASS" | saslpasswd2 -p -f "$CYRUS_DIR/sasldb2" \
				-c -u "" "$name" || fail "saslpasswd2 failed for $name"
			chown nobody:nogroup "$CYRUS_DIR/sasldb2"
		else
			"$LIB_DIR/courier-adduser" "$COURIER_DIR" "$name" "$IMAP_PASS" \
				|| fail "courier-adduser failed for $name"
		fi
		printf '%s\n' "$IMAP_PASS" > "$T_DIR/$name.pass"
		chmod 0600 "$T_DIR/$name.pass"
		export IMAP_USER IMAP_PASS
		wait_until 10 sx caps
		;;
	esac
}

sx() {
	IMAPC_HOST=$SRV_HOST IMAPC_PORT=$SRV_PORT IMAPC_USER=$IMAP_USER \
		IMAPC_PASS=$IMAP_PASS python3 "$LIB_DIR/imapc" "$@"
}

srv_config() {
	local file=$1; shift
	write_config "$file" "imap.host=$SRV_HOST" "imap.port:=$SRV_PORT" "$@"
}

srv_restart() {
	local env
	case "$SRV" in
	dovecot|dovecot-quirks) dovecot_restart ;;
	cyrus)
		"$LIB_DIR/cyrus-stop" "$CYRUS_DIR" --keep || fail "cyrus-stop failed"
		env=$(CYRUS_PORT=$CYRUS_PORT CYRUS_TLS_PORT=$CYRUS_TLS_PORT \
			"$LIB_DIR/cyrus-start" "$CYRUS_DIR") || fail "cyrus-start (again) failed"
		eval "$env"
		;;
	courier)
		"$LIB_DIR/courier-stop" "$COURIER_DIR" --keep || fail "courier-stop failed"
		env=$(COURIER_PORT=$COURIER_PORT COURIER_TLS_PORT=$COURIER_TLS_PORT \
			"$LIB_DIR/courier-start" "$COURIER_DIR") || fail "courier-start (again) failed"
		eval "$env"
		;;
	esac
}

# Maildir servers (Dovecot, Courier) run the session as nobody: a folder
# whose maildir it may not write refuses new messages.  Cyrus: a negative
# ACL takes the insert right from the owner.
srv_maildir() {
	local base
	case "$SRV" in
	courier) base=$COURIER_DIR/mail/$IMAP_USER/Maildir ;;
	*) base=$DOVECOT_DIR/mail/$IMAP_USER/Maildir ;;
	esac
	echo "$base/.${1//\//.}"
}

srv_break() {
	case "$SRV" in
	cyrus) sx setacl "$1" "-$IMAP_USER" i ;;
	*) chmod 0555 "$(srv_maildir "$1")"/{tmp,new,cur} ;;
	esac
}

srv_mend() {
	case "$SRV" in
	cyrus) sx deleteacl "$1" "-$IMAP_USER" ;;
	*) chmod 0755 "$(srv_maildir "$1")"/{tmp,new,cur} ;;
	esac
}
