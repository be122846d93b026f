# regex (draft, as Pigeonhole): POSIX extended, captures into ${N}
require ["fileinto", "regex", "variables", "imap4flags"];
if header :regex "subject" "^\\[([a-z]+)\\] (.*) ([0-9.]+)" {
    fileinto "Lists/${1}";
    addflag "v${3}";
}
if header :regex "list-id" "<([^.]+)\\.lists\\." { addflag "list-${1}"; }
if address :regex :domain "from" "(example|store)\\.(org|example)$" {
    addflag "dom-${1}-${2}";
}
if header :regex :comparator "i;octet" "subject" "^your" { addflag "lower"; }
if header :regex "subject" "^your" { addflag "anycase"; }
if header :regex "received" "from ([a-z]+)\\.example by ([a-z]+)" {
    addflag "rcv-${1}-${2}";
}
if not header :regex "subject" "." { addflag "emptysubject"; }
if header :regex ["x-none", "message-id"] "^<([a-z]+)([0-9]+)@" {
    addflag "mid-${1}-${2}";
}
if header :regex "from" "(a|b)(x)?(c)?" { addflag "opt-${2}${3}-${1}"; }
