# Debian 12 packages mailsift needs to build, test and run its demo.
# Read by the Makefile (make deps) and by .ci/run: keep it one line.
DEPS = gcc make pkg-config libetpan-dev libsieve2-dev libjson-c-dev libsqlite3-dev libgnutls28-dev check dovecot-imapd dovecot-sieve openssl valgrind ca-certificates procps sqlite3 python3 sieve-connect python3-sievelib
