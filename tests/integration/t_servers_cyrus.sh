#!/usr/bin/env bash
# t_servers_cyrus.sh - the server matrix's cases (matrix.sh) against
# Cyrus IMAP 3.6, unpacked from the Debian package: special-use
# attributes in lower case (\junk), instant IDLE through idled.
# servers: cyrus
. "$(dirname "$0")/lib.sh"
. "$LIB_DIR/servers.sh"
. "$LIB_DIR/matrix.sh"

matrix_run cyrus
