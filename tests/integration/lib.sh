# lib.sh - helpers for the integration tests (tests/integration/t_*.sh).
#
# A test is a bash script run by tests/integration/run, which starts ONE
# Dovecot for the whole run and exports its address.  Start each test with
#     . "$(dirname "$0")/lib.sh"
# It exits non-zero (with a message on stderr) on failure; its output tail is
# shown when it fails.  Tests must not share state: each creates its own
# IMAP user with new_user and keeps its files in $T_DIR.
#
# Environment (exported by run; a test may also be run alone with
# `tests/integration/run t_name` to get it):
#   BUILD            build dir (absolute); MAILSIFT=$BUILD/mailsift,
#                    ITESTS=$BUILD/itests (the C helper programs)
#   T_DIR            a fresh directory for this test (under /tmp, removed
#                    after the run unless KEEP=1)
#   T_NAME           the test's name, e.g. t_store_imap
#   IMAP_HOST IMAP_PORT   plain IMAP (STARTTLS too when TLS is on)
#   IMAPS_PORT IMAP_CAFILE  implicit TLS port and the self-signed CA/cert
#                    (SAN localhost, 127.0.0.1)
#   IMAP_HOST_NOMOVE   127.0.0.2: same server, no MOVE advertised, IDLE
#                    keepalives ("* OK Still here") every second
#   IMAP_HOST_MINIMAL  127.0.0.3: no MOVE, no UIDPLUS, no IDLE advertised
#   IMAP_HOST_QUIRKS   127.0.0.4: no MOVE, CONDSTORE, SPECIAL-USE advertised
#   IMAP_HOST_NONOTIFY 127.0.0.5: no NOTIFY advertised
#                    (the certificate does not cover these addresses)
#   DOVECOT_CONF DOVECOT_DIR DOVECOT_LOG
#
# Users and mail (all act "as another client", through doveadm; BOX names
# are UTF-8):
#   new_user [NAME [PASS]]   creates a user (default name: T_NAME plus a
#                            counter, "" for the default; PASS: any bytes
#                            but ':', CR, LF); sets IMAP_USER and IMAP_PASS
#                            and writes the password to $T_DIR/$IMAP_USER.pass;
#                            with NEW_USER_QUIRKS=1 the user's namespace is
#                            Courier's: prefix "INBOX.", separator ".", no
#                            special-use attributes (see dovecot-start)
#   make_msg FILE [HDR...]   writes a small message (CRLF) with a unique
#                            Message-ID (echoed on stdout) unless a
#                            "Message-ID: ..." HDR is given; HDR "Subject: x"
#                            etc.; a HDR "body=TEXT" sets the body
#   imap_append USER BOX FILE [FLAGS [DAYS_AGO]]  APPENDs FILE to BOX over
#                            IMAP (BOX created if missing), FLAGS set
#                            atomically, e.g. '\Seen $Junk', with an
#                            INTERNALDATE DAYS_AGO days back (default now);
#                            echoes the uid (APPENDUID)
#   imap_count USER BOX      number of messages (0 if BOX does not exist)
#   imap_uids USER BOX       uids, one per line, ascending
#   imap_search USER BOX QUERY...  uids matching a doveadm search query,
#                            e.g. imap_search u INBOX header message-id '<a@b>'
#   imap_flags USER BOX UID  flags and keywords, space separated, sorted,
#                            without \Recent
#   imap_fetch_raw USER BOX UID  the message bytes as stored (LF line ends:
#                            compare with `tr -d '\r' < original`)
#   imap_boxes USER          mailbox names (UTF-8), one per line, sorted
#   imap_create USER BOX     creates a mailbox
#   imap_move USER FROM UID TO   moves a message as another client would
#   imap_kick USER           disconnects every session of USER
#   dadm ARGS...             doveadm -c $DOVECOT_CONF ARGS...
#
# Server:
#   dovecot_down / dovecot_up  stop / start the server on the same ports,
#                            users and maildirs (clients are disconnected)
#   dovecot_restart          dovecot_down + dovecot_up (about 3 s)
#
# mailsift:
#   write_config FILE [KEY=VALUE | KEY:=JSON | -KEY]...
#                            writes a mailsift JSON config for the current
#                            user.  Defaults: imap.host=$IMAP_HOST
#                            imap.port=$IMAP_PORT imap.tls=none
#                            imap.username=$IMAP_USER
#                            imap.password_file=$T_DIR/$IMAP_USER.pass
#                            folders.watch:=["INBOX"]
#                            state_dir=$T_DIR/state-$IMAP_USER.
#                            KEY is "section.key" or a top-level key; the
#                            short names host port tls ca_file username
#                            password_file password_command timeout
#                            poll_interval idle_restart (imap.*) and watch
#                            junk trash (folders.*) are accepted too.
#                            KEY=VALUE: numbers and true/false stay bare,
#                            anything else becomes a JSON string, watch=A,B
#                            a list; KEY:=JSON inserts raw JSON; -KEY drops a
#                            default.
#   train_background DB N    trains N small ham and N small spam messages
#                            (written to $T_DIR/msgs) into the token store
#                            DB, so that a model has something to compare
#   ledger_sql STATE_DIR SQL runs SQL on the ledger under a state_dir
#   bg_start LOG CMD...      starts CMD in the background, output to LOG;
#                            sets BG_PID; every such process is killed when
#                            the test exits
#   bg_stop PID              SIGTERM, then waits (SIGKILL after 10 s);
#                            returns the process's exit status
#
# Fault proxy (tests/integration/faultproxy.py; its header explains SPEC):
#   proxy_start TARGET_PORT [SPEC...]  starts a proxy on 127.0.0.1 in front
#                            of 127.0.0.1:TARGET_PORT; the i-th SPEC breaks
#                            the i-th connection, later ones pass.  Sets
#                            PROXY_PORT, PROXY_LOG (one line per connection
#                            and per fault) and PROXY_CTL
#   proxy_ctl LINE           e.g. "now drop": acts on live connections
#   proxy_fired              true once a fault has fired (for wait_until)
#
# Checks:
#   fail MSG...              prints "FAIL: MSG" and exits 1
#   assert_eq EXPECTED ACTUAL WHAT
#   wait_until TIMEOUT_S CMD...  runs CMD every 0.1 s until it succeeds;
#                            fails the test after TIMEOUT_S seconds
#   count_is USER BOX N      true when BOX holds N messages (for wait_until:
#                            `wait_until 10 test "$(imap_count ...)" = 1`
#                            would count only once)
#   now_ms                   milliseconds since the epoch

set -u
set -o pipefail

: "${DOVECOT_CONF:?run the integration tests through tests/integration/run}"
: "${T_DIR:?T_DIR is set by tests/integration/run}"
LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BUILD:-build}
MAILSIFT=${MAILSIFT:-$BUILD/mailsift}
ITESTS=${ITESTS:-$BUILD/itests}
T_NAME=${T_NAME:-$(basename "$0" .sh)}
mkdir -p "$T_DIR"

# On failure, the tail of each background program's log comes first, so
# that a failure seen only in CI can be understood from its output.
fail() {
	local log
	for log in "${LIB_BG_LOGS[@]}"; do
		[ -s "$log" ] || continue
		echo "--- last lines of $log:" >&2
		tail -n 15 "$log" >&2
	done
	echo "FAIL: $*" >&2
	exit 1
}

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

now_ms() { date +%s%3N; }

wait_until() {
	local limit=$1; shift
	local deadline=$(( $(now_ms) + limit * 1000 ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$deadline" ] \
			|| fail "timed out after ${limit}s waiting for: $*"
		sleep 0.1
	done
}

dadm() { doveadm -c "$DOVECOT_CONF" "$@"; }

count_is() { [ "$(imap_count "$1" "$2")" = "$3" ]; }

# ------------------------------------------------------------------ users
LIB_USER_SEQ=0
new_user() {
	local name=${1:-}
	if [ -z "$name" ]; then
		LIB_USER_SEQ=$((LIB_USER_SEQ + 1))
		name="${T_NAME}_${LIB_USER_SEQ}"
	fi
	case "$name" in *[!A-Za-z0-9_.-]*) fail "new_user: bad name '$name'" ;; esac
	[ -e "$DOVECOT_DIR/passwd.d/$name" ] && fail "new_user: '$name' exists"
	IMAP_USER=$name
	IMAP_PASS=${2:-"pw-$name-$RANDOM"}
	mkdir -p "$DOVECOT_DIR/mail/$name"
	if [ "$(id -u)" = 0 ]; then
		chown "$(cat "$DOVECOT_DIR/mail-owner")" "$DOVECOT_DIR/mail/$name"
	fi
	# One passwd-file per user (see dovecot-start): read on first lookup.
	local fields=
	[ "${NEW_USER_QUIRKS:-0}" = 1 ] && fields="userdb_namespace/inbox/disabled=yes userdb_namespace/quirks/disabled=no"
	printf '%s:{PLAIN}%s::::::%s\n' "$name" "$IMAP_PASS" "$fields" \
		> "$DOVECOT_DIR/passwd.d/$name.tmp"
	chmod 0644 "$DOVECOT_DIR/passwd.d/$name.tmp"
	mv "$DOVECOT_DIR/passwd.d/$name.tmp" "$DOVECOT_DIR/passwd.d/$name"
	# A guard: with one shared passwd-file, Dovecot (which looks at a
	# file at most once a second) missed users added right after a
	# lookup; with a file per user the first lookup succeeds.
	wait_until 5 dadm auth lookup "$name"
	printf '%s\n' "$IMAP_PASS" > "$T_DIR/$name.pass"
	chmod 0600 "$T_DIR/$name.pass"
	export IMAP_USER IMAP_PASS
}

LIB_MSG_SEQ=0
make_msg() {
	local file=$1; shift
	local h body="This is a test message." mid=""
	LIB_MSG_SEQ=$((LIB_MSG_SEQ + 1))
	{
		for h in "$@"; do
			case "$h" in
			body=*) ;;
			[Mm]essage-[Ii][Dd]:*) mid=${h#*:}; mid=${mid# }
				printf '%s\r\n' "$h" ;;
			*) printf '%s\r\n' "$h" ;;
			esac
		done
		if [ -z "$mid" ]; then
			mid="<$T_NAME.$$.$LIB_MSG_SEQ.$(now_ms)@mailsift.test>"
			printf 'Message-ID: %s\r\n' "$mid"
		fi
		printf '%s\r\n' "Date: Mon, 30 Nov 2026 04:00:00 +0000"
		for h in "$@"; do
			case "$h" in body=*) body=${h#body=} ;; esac
		done
		printf '\r\n%s\r\n' "$body"
	} > "$file"
	echo "$mid"
}

# ------------------------------------------------------------------ mail
imap_create() {
	dadm mailbox create -u "$1" "$2" 2>/dev/null \
		|| dadm mailbox status -u "$1" messages "$2" >/dev/null \
		|| fail "cannot create mailbox '$2' for $1"
}

imap_count() {
	local out
	out=$(dadm -f tab mailbox status -u "$1" messages "$2" 2>/dev/null) \
		|| { echo 0; return 0; }
	awk -F '\t' 'END { print $NF }' <<<"$out"
}

imap_uids() {
	dadm search -u "$1" mailbox "$2" all 2>/dev/null | awk '{print $2}' \
		| sort -n
}

imap_search() {
	local user=$1 box=$2; shift 2
	dadm search -u "$user" mailbox "$box" "$@" | awk '{print $2}' | sort -n
}

# Reads IMAP responses from fd $1 up to the tagged one for tag $2; that
# line (without CR) goes to LIB_IMAP_LINE; true if it says OK.
lib_imap_tagged() {
	local fd=$1 tag=$2 line
	while IFS= read -r -t 20 line <&"$fd"; do
		line=${line%$'\r'}
		case "$line" in
		"$tag "*) LIB_IMAP_LINE=$line
			[[ $line == "$tag OK"* ]]
			return ;;
		esac
	done
	LIB_IMAP_LINE="(no answer to $tag)"
	return 1
}

# An IMAP APPEND as another client would do it (bash's /dev/tcp): the
# flags are set atomically and APPENDUID names the uid, so a daemon that
# moves the message away at once cannot confuse the helper.
imap_append() {
	local user=$1 box=$2 file=$3 flags=${4:-} days=${5:-} date="" pass
	local wire size fd uid
	pass=$(cat "$T_DIR/$user.pass" 2>/dev/null) \
		|| fail "imap_append: no password for '$user' (use new_user)"
	dadm mailbox status -u "$user" messages "$box" >/dev/null 2>&1 \
		|| imap_create "$user" "$box"
	wire=$(dadm mailbox mutf7 "$box") || fail "cannot encode '$box'"
	wire=${wire//\\/\\\\}
	wire=${wire//\"/\\\"}
	size=$(wc -c < "$file") || fail "cannot read $file"
	if [ -n "$days" ]; then
		date=$(LC_ALL=C date -d "$days days ago" '+"%d-%b-%Y %H:%M:%S %z" ')
	fi
	exec {fd}<>"/dev/tcp/$IMAP_HOST/$IMAP_PORT" \
		|| fail "imap_append: cannot connect to $IMAP_HOST:$IMAP_PORT"
	printf 'a LOGIN "%s" "%s"\r\n' "$user" "$pass" >&"$fd"
	lib_imap_tagged "$fd" a || fail "imap_append: LOGIN: $LIB_IMAP_LINE"
	# LITERAL+: no need to wait for a continuation.
	{
		printf 'b APPEND "%s" (%s) %s{%d+}\r\n' "$wire" "$flags" "$date" \
			"$size"
		cat "$file"
		printf '\r\n'
	} >&"$fd"
	lib_imap_tagged "$fd" b \
		|| fail "imap_append to '$box' for $user: $LIB_IMAP_LINE"
	printf 'c LOGOUT\r\n' >&"$fd"
	exec {fd}>&-
	uid=$(sed -nE 's/.*\[APPENDUID [0-9]+ ([0-9]+)\].*/\1/p' \
		<<<"$LIB_IMAP_LINE")
	[ -n "$uid" ] || fail "imap_append: no APPENDUID in: $LIB_IMAP_LINE"
	echo "$uid"
}

imap_flags() {
	local out
	out=$(dadm -f flow fetch -u "$1" flags mailbox "$2" uid "$3") \
		|| fail "cannot fetch flags of uid $3 in '$2'"
	out=${out#flags=}
	tr ' ' '\n' <<<"$out" | grep -v -x -e '\\Recent' -e '' | sort | paste -sd ' '
}

imap_fetch_raw() {
	# The pager formatter prints "text:\n" then the message.
	dadm -f pager fetch -u "$1" text mailbox "$2" uid "$3" | tail -c +7
}

imap_boxes() {
	dadm mailbox list -u "$1" | LC_ALL=C sort
}

imap_move() {
	dadm move -u "$1" "$4" mailbox "$2" uid "$3" \
		|| fail "doveadm move of uid $3 from '$2' to '$4' failed"
}

imap_kick() {
	dadm kick "$1" >/dev/null
}

# ------------------------------------------------------------------ server
dovecot_down() {
	"$LIB_DIR/dovecot-stop" "$DOVECOT_DIR" --keep \
		|| fail "dovecot-stop failed"
}

dovecot_up() {
	local env
	env=$(DOVECOT_PORT=$IMAP_PORT DOVECOT_TLS_PORT=$IMAPS_PORT \
		DOVECOT_TLS=$DOVECOT_TLS DOVECOT_USERS= \
		"$LIB_DIR/dovecot-start" "$DOVECOT_DIR") \
		|| fail "dovecot-start (restart in place) failed"
	eval "$env"
}

dovecot_restart() {
	dovecot_down
	dovecot_up
}

# ------------------------------------------------------------------ config
lib_json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	printf '"%s"' "$s"
}

lib_json_val() {
	if [[ $1 =~ ^(true|false|null|-?[0-9]+(\.[0-9]+)?)$ ]]; then
		printf '%s' "$1"
	else
		lib_json_str "$1"
	fi
}

write_config() {
	local file=$1; shift
	declare -A val=()
	local order=() a key v sec k out first
	local -a defs=(
		"imap.host=$IMAP_HOST" "imap.port:=$IMAP_PORT" "imap.tls=none"
		"imap.username=${IMAP_USER:-}"
		"imap.password_file=$T_DIR/${IMAP_USER:-}.pass"
		'folders.watch:=["INBOX"]'
		"state_dir=$T_DIR/state-${IMAP_USER:-}")
	for a in "${defs[@]}" "$@"; do
		case "$a" in
		-*) key=${a#-}; v=DELETE ;;
		*:=*) key=${a%%:=*}; v="J${a#*:=}" ;;
		*=*) key=${a%%=*}; v="S${a#*=}" ;;
		*) fail "write_config: bad argument '$a'" ;;
		esac
		case "$key" in
		host|port|tls|ca_file|username|password_file|password_command|\
		timeout|poll_interval|idle_restart) key=imap.$key ;;
		watch|junk|trash) key=folders.$key ;;
		esac
		if [ "$key" = folders.watch ] && [ "${v:0:1}" = S ]; then
			local IFS=, items=() it
			read -r -a items <<<"${v:1}"
			unset IFS
			v="J["; first=1
			for it in "${items[@]}"; do
				[ $first = 1 ] || v+=","
				v+=$(lib_json_str "$it"); first=0
			done
			v+="]"
		fi
		[ -n "${val[$key]+x}" ] || order+=("$key")
		val[$key]=$v
	done
	# Emit top-level keys, grouping "section.key" entries per section.
	out="{"; first=1
	local -A done_sec=()
	for key in "${order[@]}"; do
		[ "${val[$key]}" = DELETE ] && continue
		if [[ $key == *.* ]]; then
			sec=${key%%.*}
			[ -n "${done_sec[$sec]+x}" ] && continue
			done_sec[$sec]=1
			[ $first = 1 ] || out+=","
			first=0
			out+=$'\n  '"$(lib_json_str "$sec"): {"
			local sfirst=1 k2
			for k2 in "${order[@]}"; do
				[[ $k2 == "$sec".* ]] || continue
				[ "${val[$k2]}" = DELETE ] && continue
				[ $sfirst = 1 ] || out+=","
				sfirst=0
				out+=$'\n    '"$(lib_json_str "${k2#*.}"): "
				out+=$(lib_val_out "${val[$k2]}")
			done
			out+=$'\n  }'
		else
			[ $first = 1 ] || out+=","
			first=0
			out+=$'\n  '"$(lib_json_str "$key"): $(lib_val_out "${val[$key]}")"
		fi
	done
	out+=$'\n}\n'
	printf '%s' "$out" > "$file"
}

lib_val_out() {
	case "$1" in
	J*) printf '%s' "${1:1}" ;;
	S*) lib_json_val "${1:1}" ;;
	esac
}

train_background() {
	local db=$1 n=$2 i
	mkdir -p "$T_DIR/msgs"
	for i in $(seq 1 "$n"); do
		make_msg "$T_DIR/msgs/bg-ham$i.eml" "From: colleague$i@work.example" \
			"Subject: project notes $i" \
			"body=Minutes of meeting $i: the release moves to next week." \
			>/dev/null
		make_msg "$T_DIR/msgs/bg-spam$i.eml" "From: promo@bulk.example" \
			"Subject: cheap pills $i" \
			"body=Buy cheap pills now, best prices, click here $i" >/dev/null
	done
	"$MAILSIFT" train --ham --db "$db" "$T_DIR"/msgs/bg-ham*.eml \
		>/dev/null || fail "background ham training failed"
	"$MAILSIFT" train --spam --db "$db" "$T_DIR"/msgs/bg-spam*.eml \
		>/dev/null || fail "background spam training failed"
}

ledger_sql() { sqlite3 -cmd ".timeout 5000" "$1/ledger.db" "$2"; }

# The learning tests' owner: a new user $u whose Sieve script files
# "WINNER" subjects into Junk (created), config $T_DIR/c.json looking for
# corrections every second, state in $state, message files in
# $T_DIR/msgs (apart from the script: its directory is watched); q SQL
# asks the ledger.
learner_setup() {
	new_user
	u=$IMAP_USER
	state=$T_DIR/state-$u
	mkdir -p "$state" "$T_DIR/msgs"
	cat > "$T_DIR/rules.sieve" <<'SIEVE'
require "fileinto";
if header :contains "Subject" "WINNER" { fileinto "Junk"; }
SIEVE
	write_config "$T_DIR/c.json" "sieve=$T_DIR/rules.sieve" poll_interval=1
	imap_create "$u" Junk
}
q() { ledger_sql "$state" "$1"; }

# ------------------------------------------------------------------ proxy
LIB_PROXY_SEQ=0
proxy_start() {
	local target=$1 base; shift
	LIB_PROXY_SEQ=$((LIB_PROXY_SEQ + 1))
	base=$T_DIR/proxy$LIB_PROXY_SEQ
	PROXY_LOG=$base.log
	PROXY_CTL=$base.ctl
	: > "$PROXY_CTL"
	bg_start "$base.err" python3 "$LIB_DIR/faultproxy.py" \
		--target "127.0.0.1:$target" --port-file "$base.port" \
		--log "$PROXY_LOG" --control "$PROXY_CTL" "$@"
	wait_until 10 test -s "$base.port"
	PROXY_PORT=$(cat "$base.port")
}

proxy_ctl() { printf '%s\n' "$*" >> "$PROXY_CTL"; }

proxy_fired() { grep -q ': [a-z]*@[sc]2[sc] at byte' "$PROXY_LOG"; }

# ------------------------------------------------------------------ processes
LIB_BG_PIDS=()
LIB_BG_LOGS=()
bg_start() {
	local log=$1; shift
	"$@" > "$log" 2>&1 &
	BG_PID=$!
	LIB_BG_PIDS+=("$BG_PID")
	LIB_BG_LOGS+=("$log")
}

bg_stop() {
	local pid=$1 i rc
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null
	rc=$?
	return $rc
}

# status_get STATE_DIR KEY...: a value of the daemon's status file
# (STATE_DIR/status.json), e.g. status_get "$state" totals known; nothing
# when the file or the key is missing.
status_get() {
	python3 - "$@" <<'PY' 2>/dev/null
import json, sys
try:
    v = json.load(open(sys.argv[1] + "/status.json"))
    for k in sys.argv[2:]:
        v = v[k]
    print(v)
except (OSError, ValueError, KeyError, TypeError):
    pass
PY
}

lib_status_is() { [ "$(status_get "$1" "$2")" = "$3" ]; }
lib_synced_after() {
	local t
	t=$(status_get "$1" last_sync)
	[ -n "$t" ] && [ "$t" -gt "$2" ]
}

# daemon_passes STATE_DIR PID N: waits until the daemon PID has done N
# whole passes (sort the watched folders, then look at Junk and the
# keywords when due) that all began after this call.  The status file's
# last_sync has a resolution of a second: it must move to a later second
# N+1 times, so that the pass of each move began after the one before
# ended.  For "nothing changes" checks: the daemon looked, under any load.
daemon_passes() {
	local st=$1 pid=$2 n=$3 i last
	wait_until 60 lib_status_is "$st" pid "$pid"
	last=$(date +%s)
	for i in $(seq 0 "$n"); do
		wait_until 60 lib_synced_after "$st" "$last"
		last=$(status_get "$st" last_sync)
	done
}

lib_cleanup() {
	local pid
	for pid in "${LIB_BG_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
}
trap lib_cleanup EXIT
