#!/usr/bin/env bash
# t_deb_install.sh - the Debian package as an admin gets it: `make deb`
# builds it from this tree (lintian: no errors), `dpkg -i` installs it on
# this machine, the installed mailsift runs (`--version`), finds its IMAP
# module in /usr/lib/mailsift without LD_LIBRARY_PATH, its manual pages
# are where man looks, both units are in place (the ManageSieve server
# disabled until configured), the mailsift user and /var/lib/mailsift
# exist; then
# `dpkg -P` takes everything back but what the admin made (a configuration
# in /etc/mailsift stays).
#
# It changes the machine (it runs where CI runs, as root), so it touches
# nothing it did not make: it skips when a mailsift package is installed
# already, waits for other runs of itself, and purges what it installed
# whatever happens.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 0; }

[ "$(id -u)" = 0 ] || skip "dpkg -i needs root"
for tool in dpkg-buildpackage dh flock; do
	command -v "$tool" >/dev/null ||
		fail "$tool is missing: sudo make deps (packaging/deps.mk)"
done
# One run at a time on this machine: several worktrees may run make check.
exec 9> /run/lock/mailsift-deb-test.lock
flock -w 900 9 || fail "another package test holds /run/lock/mailsift-deb-test.lock"
installed() { dpkg-query -W -f '${Status}' mailsift 2>/dev/null | grep -q ' installed$'; }
if dpkg-query -W -f '${Status}' mailsift 2>/dev/null | grep -qv 'not-installed'; then
	skip "a mailsift package is on this machine already; not touching it"
fi
user_before=$(getent passwd mailsift || true)
etc_before=$([ -e /etc/mailsift ] && echo yes || echo no)

# dpkg takes its lock for a few seconds at a time; others may hold it.
dpkg_retry() {
	local i out
	for i in $(seq 1 60); do
		out=$(dpkg "$@" 2>&1) && { printf '%s\n' "$out"; return 0; }
		grep -q 'lock' <<<"$out" || { printf '%s\n' "$out"; return 1; }
		sleep 5
	done
	printf '%s\n' "$out"
	return 1
}
we_installed=0
admin_file=/etc/mailsift/t-deb-install-admin.json
cleanup() {
	[ "$we_installed" = 1 ] && installed && dpkg_retry -P mailsift >/dev/null
	rm -f "$admin_file"
	[ "$etc_before" = no ] && rmdir /etc/mailsift 2>/dev/null
	return 0
}
trap cleanup EXIT

make -s deb || fail "make deb failed"
version=$(cat VERSION)
deb=$(ls build/mailsift_"$version"_*.deb) || fail "make deb left no .deb in build/"
grep -E '^[EW]:' build/deb/lintian.log && echo "(lintian warnings above)"
# libsieve is linked in statically: the package names its source.
sieve_src=$(dpkg-query -f '${source:Package} (= ${source:Version})' -W libsieve2-dev)
assert_field() { [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"; }
assert_field "$sieve_src" "$(dpkg-deb -f "$deb" Built-Using)" "Built-Using"

we_installed=1
dpkg_retry -i "$deb" || fail "dpkg -i $deb failed"
installed || fail "mailsift is not installed after dpkg -i"
files=$(dpkg -L mailsift)

assert_eq() { [ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"; }
assert_eq /usr/bin/mailsift "$(command -v mailsift)" "mailsift on PATH"
assert_eq "mailsift $version" "$(env -u LD_LIBRARY_PATH /usr/bin/mailsift --version)" \
	"mailsift --version"
for page in mailsift mailsift.json; do
	path=$(man -w "$page") || fail "man -w $page finds nothing"
	grep -qx "$path" <<<"$files" || fail "man -w $page gives $path, not the package's page"
done
[ -f /usr/lib/mailsift/mailsift-imap.so ] || fail "no IMAP module in /usr/lib/mailsift"
ldd /usr/bin/mailsift | grep -q 'libasan' &&
	fail "the package holds a sanitizer build (a BUILD from the environment?)"
[ -f /lib/systemd/system/mailsift@.service ] || fail "no template unit"
[ -f /lib/systemd/system/mailsift-managesieve.service ] ||
	fail "no ManageSieve unit"
[ -f /etc/mailsift/managesieve.json.sample ] ||
	fail "no example ManageSieve configuration"
[ -f /usr/lib/sysusers.d/mailsift.conf ] || fail "no sysusers.d entry"
[ -f /usr/lib/tmpfiles.d/mailsift.conf ] || fail "no tmpfiles.d entry"
[ -f /etc/mailsift/example.json.sample ] || fail "no example configuration"
ls /etc/mailsift/*.json 2>/dev/null && fail "the package ships an active configuration"
getent passwd mailsift >/dev/null || fail "no mailsift user"
assert_eq "mailsift mailsift 750" "$(stat -c '%U %G %a' /var/lib/mailsift)" \
	"owner and mode of /var/lib/mailsift"

# The IMAP module loads from /usr/lib/mailsift: a run against a closed
# port fails on the connection, not on the module.
tmp=$(mktemp -d)
port=$(( 20000 + RANDOM % 20000 ))
printf 'pw\n' > "$tmp/pw"
chmod 0600 "$tmp/pw"
cat > "$tmp/c.json" <<EOF
{ "imap": { "host": "127.0.0.1", "port": $port, "tls": "none",
            "username": "u", "password_file": "pw", "timeout": 1 },
  "state_dir": "state" }
EOF
out=$(env -u LD_LIBRARY_PATH /usr/bin/mailsift run -c "$tmp/c.json" --once 2>&1)
rc=$?
rm -rf "$tmp"
printf '%s\n' "$out"
grep -q "IMAP module" <<<"$out" && fail "the IMAP module did not load"
grep -q "cannot connect to 127.0.0.1:$port" <<<"$out" \
	|| fail "the run did not try to connect"
assert_eq 1 "$rc" "exit status of a run against a closed port"

# What the admin makes stays; everything the package made goes.
echo '{}' > "$admin_file"
dpkg_retry -P mailsift || fail "dpkg -P failed"
we_installed=0
installed && fail "mailsift still installed after dpkg -P"
[ -f "$admin_file" ] || fail "dpkg -P removed the admin's $admin_file"
left=""
while read -r f; do
	[ -n "$f" ] || continue
	[ -d "$f" ] && continue		# shared directories (/usr/bin, ...)
	[ -e "$f" ] && left="$left $f"
done <<<"$files"
[ -z "$left" ] || fail "left behind by dpkg -P:$left"
[ -e /var/lib/mailsift ] && fail "/var/lib/mailsift left behind"
for d in /usr/lib/mailsift /usr/share/doc/mailsift; do
	[ -e "$d" ] && fail "$d left behind"
done
if [ -z "$user_before" ]; then
	getent passwd mailsift >/dev/null && fail "the mailsift user left behind"
	getent group mailsift >/dev/null && fail "the mailsift group left behind"
else
	assert_eq "$user_before" "$(getent passwd mailsift || true)" \
		"the mailsift user that was there before"
fi
echo "ok: installed, ran and purged $(basename "$deb")"
