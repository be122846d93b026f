#!/usr/bin/env bash
# t_servers_dovecot_quirks.sh - the server matrix's cases (matrix.sh)
# against Dovecot posing as a small server: personal namespace "INBOX."
# with separator ".", no special-use attributes, no MOVE, CONDSTORE or
# SPECIAL-USE advertised (see dovecot-start).
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/servers.sh"
. "$LIB_DIR/matrix.sh"

matrix_run dovecot-quirks
