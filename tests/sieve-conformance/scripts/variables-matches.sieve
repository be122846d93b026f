# match variables: which wildcard took what, across tests and headers
require ["fileinto", "variables", "imap4flags", "relational",
         "comparator-i;ascii-numeric"];
if header :matches "subject" "*e*e*" {
    addflag "s1-${1}-${2}";
}
if header :matches "subject" "?*?" { addflag "s2-${1}${3}"; }
if header :matches ["x-none", "from", "to"] "*@*" {
    set "who" "${1}";
    set :length "len" "${who}";
}
if anyof(header :matches "subject" "*zzz*", address :matches :localpart "to" "*+*") {
    addflag "detail-${2}";
}
if not header :matches "subject" "*a*" { addflag "no-a"; }
addflag "after-not-${1}";
if string :value "gt" :comparator "i;ascii-numeric" "${len}" "10" {
    addflag "longwho";
}
if string :matches "${who}" "*\\**" { addflag "starwho"; }
set :quotewildcard "q" "${who}";
if header :matches "from" "*${q}*" { addflag "found-${len}"; }
if header :contains "received" "${hex:}" { addflag "literal"; }
