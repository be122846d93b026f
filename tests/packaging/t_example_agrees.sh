#!/usr/bin/env bash
# t_example_agrees.sh - the example configuration that ships
# (packaging/config.example.json, installed as
# /etc/mailsift/example.json.sample) is the one mailsift.json(5) shows
# under EXAMPLE and calls "the example above", README's example under
# "Pointing it at a real account" is valid JSON with only keys the shipped
# example has, and every password file that README, the unit and the man
# pages name is NAME.pass, as README's walkthrough makes it.
set -u
cd "$(dirname "$0")/../.."
python3 - <<'PY'
import json, re, sys

def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)

shipped = json.load(open("packaging/config.example.json"))
man = open("packaging/mailsift.json.5").read()
m = re.search(r"^\.SH EXAMPLE\n.*?^\.RS\n(.*?)^\.RE\n", man, re.M | re.S)
if not m:
    fail("no .SH EXAMPLE with an .RS block in packaging/mailsift.json.5")
try:
    shown = json.loads(m.group(1).replace("\\-", "-"))
except ValueError as e:
    fail("mailsift.json.5's EXAMPLE is not JSON: %s" % e)
if shown != shipped:
    fail("mailsift.json.5's EXAMPLE and packaging/config.example.json "
         "differ: make them the same\n  man:     %s\n  shipped: %s"
         % (json.dumps(shown, sort_keys=True), json.dumps(shipped, sort_keys=True)))

readme = open("README.md").read()
sec = readme.split("\n## Pointing it at a real account\n", 1)
if len(sec) != 2:
    fail("README.md has no '## Pointing it at a real account' section")
m = re.search(r"^ *```json\n(.*?)^ *```$", sec[1], re.M | re.S)
if not m:
    fail("no json block in README's 'Pointing it at a real account'")
try:
    example = json.loads(m.group(1))
except ValueError as e:
    fail("README's example configuration is not JSON: %s" % e)

def keys(c, prefix=""):
    for k, v in c.items():
        if isinstance(v, dict):
            yield from keys(v, prefix + k + ".")
        else:
            yield prefix + k

unknown = set(keys(example)) - set(keys(shipped))
if unknown:
    fail("README's example has keys the shipped example lacks: %s"
         % ", ".join(sorted(unknown)))

# File names like "dana.password" (not keys like imap.password_file).
named = 0
for path in ("README.md", "packaging/mailsift@.service",
             "packaging/mailsift.1", "packaging/mailsift.json.5",
             "packaging/config.example.json"):
    for n, line in enumerate(open(path), 1):
        for m in re.finditer(r"[\w-]+\.(pass\w*|pw)\b", line):
            if m.group(1) in ("pass", "password", "passwd", "pw"):
                named += 1
                if m.group(1) != "pass":
                    fail("%s:%d names the password file %s: README calls it "
                         "NAME.pass, say the same" % (path, n, m.group(0)))
if named == 0:
    fail("no password file named anywhere: is this check still looking "
         "at the right files?")
print("ok")
PY
