#!/usr/bin/env bash
# t_keys_agree.sh - README.md's configuration table, the mailsift.json(5)
# man page and agent/config.c's table of keys list the same keys, so the
# documentation never drifts from what the program accepts.  On a
# mismatch it says exactly what to add where.
set -u
cd "$(dirname "$0")/../.."

# "imap.host" etc. from the key table: every entry but the sections.
code_keys() {
	sed -n '/^static const struct key keys\[\] = {/,/^};/p' agent/config.c |
		grep -v 'KEY_OBJECT' |
		sed -nE 's/^[[:space:]]*\{ "([a-z0-9_.]+)",.*/\1/p' | sort -u
}

# The first column of the table under "## Configuration".
readme_keys() {
	sed -n '/^## Configuration$/,/^## /p' README.md |
		sed -nE 's/^\| `([a-z0-9_.]+)` \|.*/\1/p' | sort -u
}

# ".TP" then ".B key" under ".SH KEYS".
man_keys() {
	sed -n '/^\.SH KEYS$/,/^\.SH /p' packaging/mailsift.json.5 |
		awk 'prev == ".TP" && $1 == ".B" { print $2 } { prev = $0 }' |
		sort -u
}

code=$(code_keys)
readme=$(readme_keys)
man=$(man_keys)
[ -n "$code" ] || { echo "FAIL: no keys found in agent/config.c's table (did its format change? update $0)"; exit 1; }
[ -n "$readme" ] || { echo "FAIL: no keys found in README.md under '## Configuration' (rows like '| \`key\` | type | default | meaning |')"; exit 1; }
[ -n "$man" ] || { echo "FAIL: no keys found in packaging/mailsift.json.5 under '.SH KEYS' ('.TP' then '.B key')"; exit 1; }

status=0
while read -r k; do
	[ -n "$k" ] || continue
	if ! grep -qx -- "$k" <<<"$readme"; then
		echo "FAIL: key '$k' is in agent/config.c but not in README.md: add a row"
		echo "      | \`$k\` | TYPE | DEFAULT | MEANING |"
		echo "      to the table under '## Configuration'"
		status=1
	fi
	if ! grep -qx -- "$k" <<<"$man"; then
		echo "FAIL: key '$k' is in agent/config.c but not in packaging/mailsift.json.5: add under '.SH KEYS'"
		echo "      .TP"
		echo "      .B $k"
		echo "      TYPE, default DEFAULT. What it does. Example: .BR VALUE ."
		status=1
	fi
done <<<"$code"
while read -r k; do
	[ -n "$k" ] || continue
	grep -qx -- "$k" <<<"$code" || {
		echo "FAIL: README.md's configuration table lists '$k', which agent/config.c does not accept: remove the row or fix its name"
		status=1
	}
done <<<"$readme"
while read -r k; do
	[ -n "$k" ] || continue
	grep -qx -- "$k" <<<"$code" || {
		echo "FAIL: packaging/mailsift.json.5 documents '$k' under KEYS, which agent/config.c does not accept: remove its .TP entry or fix its name"
		status=1
	}
done <<<"$man"
[ $status = 0 ] && echo "ok: $(wc -l <<<"$code") keys agree in agent/config.c, README.md and packaging/mailsift.json.5"
exit $status
