# Debian 12 packages mailsift needs to build, test and run its demo.
# Read by the Makefile (make deps) and by .ci/run: keep it one line.
# From courier-base on: what the integration suite's Cyrus and Courier need
# beside Dovecot; the server packages themselves conflict with
# dovecot-imapd and are unpacked, never installed (tests/integration/
# servers-unpack).  From build-essential on: what `make deb` and its
# install test need (tests/packaging).
DEPS = gcc make pkg-config libetpan-dev libsieve2-dev libjson-c-dev libsqlite3-dev libgnutls28-dev check dovecot-imapd dovecot-sieve openssl valgrind ca-certificates procps sqlite3 python3 sieve-connect python3-sievelib courier-base courier-authlib courier-authlib-userdb sasl2-bin libsasl2-modules libcourier-unicode4 libgdbm6 libidn12 libgamin0 libclamav12 libical3 libicu72 libjansson4 libpcre3 libpq5 libwrap0 libxapian30 libxml2 libzephyr4 libkrb5-3 libldap-2.5-0 build-essential debhelper dpkg-dev lintian man-db systemd
