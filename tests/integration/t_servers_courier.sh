#!/usr/bin/env bash
# t_servers_courier.sh - the server matrix's cases (matrix.sh) against
# Courier-IMAP 5, unpacked from the Debian package: NAMESPACE
# (("INBOX." ".")), no MOVE, CONDSTORE or SPECIAL-USE, no [UIDNEXT] in
# its SELECT answer, IDLE that looks at the folder every 2 s.
# servers: courier
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/servers.sh"
. "$LIB_DIR/matrix.sh"

matrix_run courier
