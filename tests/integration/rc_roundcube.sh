#!/usr/bin/env bash
# rc_roundcube.sh - a real browser on mailsift managesieve (make
# roundcube-check; not in make check: it needs Roundcube and Chromium and
# takes about a minute).  Roundcube 1.6 with its managesieve plugin runs
# in PHP's built-in web server (SQLite), pointed at the suite's Dovecot for
# IMAP and at `mailsift managesieve` over STARTTLS (test CA) for rules;
# headless Chromium logs in, creates "Subject contains X -> move to
# folder Y" in the filter editor and saves it.  Then: the script Roundcube
# wrote passes `mailsift check`, it is the active one, and a message with
# that subject appended afterwards lands in Y, filed by the running
# daemon.  The screenshot is kept as $RC_SCREENSHOT (default
# build/roundcube-filters.png).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/managesieve-lib.sh"

for need in php /usr/bin/chromium /usr/bin/chromedriver \
    /usr/share/roundcube/index.php \
    /usr/share/roundcube/plugins/managesieve/managesieve.php; do
	command -v "$need" >/dev/null || [ -e "$need" ] || fail "missing $need:" \
		"apt-get install roundcube roundcube-plugins roundcube-sqlite3" \
		"php-cli php-sqlite3 chromium chromium-driver python3-selenium"
done
/usr/bin/python3 -c 'import selenium' || fail "python3-selenium missing"

SUBJECT="Quarterly report"
FOLDER=Reports
SHOT=${RC_SCREENSHOT:-$PWD/build/roundcube-filters.png}

ms_setup poll_interval=1
imap_create "$u" "$FOLDER"
dadm mailbox subscribe -u "$u" "$FOLDER" || fail "cannot subscribe $FOLDER"
ms_start
bg_start "$T_DIR/daemon.log" "$MAILSIFT" run -c "$T_DIR/configs/$u.json"

# Roundcube: its own config directory, database and web server.
rc=$T_DIR/roundcube
mkdir -p "$rc/logs" "$rc/temp"
sqlite3 "$rc/rc.db" < /usr/share/roundcube/SQL/sqlite.initial.sql \
	|| fail "cannot create Roundcube's database"
WEB_PORT=$(ms_free_port)
# Debian's /etc/roundcube/config.inc.php is read after ours; a host file
# is read after both, so the settings go there.
cat > "$rc/config.inc.php" <<EOF
<?php
\$config = [];
\$config['include_host_config'] = ['127.0.0.1:$WEB_PORT' => '$rc/test.inc.php'];
EOF
cat > "$rc/test.inc.php" <<EOF
<?php
\$config['db_dsnw'] = 'sqlite:///$rc/rc.db?mode=0600';
\$config['imap_host'] = '127.0.0.1:$IMAP_PORT';
\$config['smtp_host'] = '';
\$config['des_key'] = 'mailsift-test-key-24byte';
\$config['plugins'] = ['managesieve'];
\$config['skin'] = 'elastic';
\$config['log_dir'] = '$rc/logs/';
\$config['temp_dir'] = '$rc/temp/';
\$config['enable_installer'] = false;
\$config['language'] = 'en_US';
\$config['managesieve_host'] = 'tls://127.0.0.1:$MS_PORT';
\$config['managesieve_conn_options'] = ['ssl' => ['verify_peer' => true,
    'cafile' => '$T_DIR/ca.pem', 'peer_name' => '127.0.0.1']];
\$config['managesieve_default'] = '';
\$config['managesieve_script_name'] = 'roundcube';
\$config['managesieve_vacation'] = 0;
EOF
RCUBE_CONFIG_PATH=$rc bg_start "$T_DIR/php.log" php -S "127.0.0.1:$WEB_PORT" \
	-t /var/lib/roundcube/public_html
wait_until 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$WEB_PORT"

mkdir -p "$(dirname "$SHOT")"
timeout 240 /usr/bin/python3 "$LIB_DIR/roundcube_drive.py" \
	"http://127.0.0.1:$WEB_PORT" "$u" "$IMAP_PASS" "$SUBJECT" "$FOLDER" \
	"$SHOT" "$T_DIR/chromium" \
	|| { tail -20 "$rc/logs/errors.log" 2>/dev/null; tail -20 "$T_DIR/ms.log"
	     fail "driving Roundcube failed"; }
[ -s "$SHOT" ] || fail "no screenshot"
echo "screenshot: $SHOT"

# What Roundcube wrote: active, and valid for mailsift.
script=$T_DIR/scripts-$u/roundcube.sieve
[ -f "$script" ] || fail "no roundcube.sieve: $(ls "$T_DIR/scripts-$u")"
cat "$script"
[ "$(readlink -f "$T_DIR/active-$u.sieve")" = "$(readlink -f "$script")" ] \
	|| fail "Roundcube's script is not the active one"
"$MAILSIFT" check "$script" || fail "mailsift check refuses Roundcube's script"
grep -q "stored script 'roundcube'" "$T_DIR/ms.log" || fail "no upload logged"

# A message with that subject, appended afterwards, lands in the folder.
wait_until 20 grep -q "reloaded sieve script" "$T_DIR/daemon.log"
make_msg "$T_DIR/report.eml" "Subject: $SUBJECT for Q3" >/dev/null
imap_append "$u" INBOX "$T_DIR/report.eml" >/dev/null
wait_until 30 count_is "$u" "$FOLDER" 1
echo ok
