# managesieve-lib.sh - set-up shared by the ManageSieve tests (sourced
# after lib.sh): a test CA and a server certificate for 127.0.0.1, a
# mailbox served by `mailsift managesieve`, and the service itself.
#
#   ms_setup                 new user $u with config $T_DIR/configs/$u.json
#                            (sieve_dir $T_DIR/scripts-$u, sieve
#                            $T_DIR/active-$u.sieve), the CA $T_DIR/ca.pem
#                            and the service's config $T_DIR/ms.json on a
#                            free port $MS_PORT; extra write_config
#                            arguments may follow
#   ms_start                 starts the service (log $T_DIR/ms.log) and
#                            waits for its port; MS_PID
#   ms_free_port             prints a free TCP port on 127.0.0.1

ms_free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

ms_make_ca() {
	local d=$T_DIR/tls
	mkdir -p "$d"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mailsift test CA" \
		-keyout "$d/ca.key" -out "$T_DIR/ca.pem" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign >/dev/null 2>&1 \
		|| fail "openssl: cannot make the test CA"
	openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
		-keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 \
		|| fail "openssl: cannot make the server key"
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
		> "$d/ext"
	openssl x509 -req -in "$d/server.csr" -CA "$T_DIR/ca.pem" \
		-CAkey "$d/ca.key" -CAcreateserial -days 2 -extfile "$d/ext" \
		-out "$d/server.pem" >/dev/null 2>&1 \
		|| fail "openssl: cannot sign the server certificate"
}

ms_setup() {
	new_user
	u=$IMAP_USER
	mkdir -p "$T_DIR/configs"
	write_config "$T_DIR/configs/$u.json" "sieve=$T_DIR/active-$u.sieve" \
		"sieve_dir=$T_DIR/scripts-$u" "state_dir=$T_DIR/state-$u" "$@"
	ms_make_ca
	MS_PORT=$(ms_free_port)
	cat > "$T_DIR/ms.json" <<EOF
{
  "listen": ["127.0.0.1"],
  "port": $MS_PORT,
  "tls_cert": "$T_DIR/tls/server.pem",
  "tls_key": "$T_DIR/tls/server.key",
  "config_dir": "$T_DIR/configs",
  "auth_failure_delay": 1,
  "idle_timeout": 10,
  "max_connections_per_address": 3,
  "quota_scripts": 5
}
EOF
}

ms_start() {
	bg_start "$T_DIR/ms.log" "$MAILSIFT" managesieve -c "$T_DIR/ms.json" -v
	MS_PID=$BG_PID
	wait_until 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MS_PORT"
}
