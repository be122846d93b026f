#!/usr/bin/env bash
# t_servers_dovecot.sh - the server matrix's cases (matrix.sh) against
# Dovecot 2.3 with all it offers: MOVE, CONDSTORE, SPECIAL-USE, NAMESPACE
# (("" "/")).
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/servers.sh"
. "$LIB_DIR/matrix.sh"

matrix_run dovecot
