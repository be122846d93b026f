# date (RFC 5260): every date part, in the local zone, the original one
# and a given one
require ["date", "variables", "imap4flags", "relational",
         "comparator-i;ascii-numeric"];
if date :matches "date" "std11" "*" { addflag "std11:${0}"; }
if date :originalzone :matches "date" "iso8601" "*" { addflag "iso:${0}"; }
if date :zone "-0330" :matches "date" "iso8601" "*" { addflag "iso-0330:${0}"; }
if date :zone "+0000" :matches "date" "time" "*" { addflag "utc:${0}"; }
if date :matches "date" "julian" "*" { addflag "julian:${0}"; }
if date :originalzone :matches "date" "weekday" "*" { addflag "wd:${0}"; }
if date :matches "date" "zone" "*" { addflag "zone:${0}"; }
if date :originalzone :matches "date" "zone" "*" { addflag "ozone:${0}"; }
if date :zone "+1400" :matches "date" "date" "*" { addflag "kiritimati:${0}"; }
if date :value "lt" :comparator "i;ascii-numeric" "date" "year" "2000" {
    addflag "last-century";
}
if date :value "ge" "date" "date" "2026-12-01" { addflag "december"; }
if allof(date :is "date" "month" "12", date :is "date" "day" "31") {
    addflag "new-years-eve";
}
if date :originalzone :matches "received" "date" "*" { addflag "rcvd:${0}"; }
if date :is "x-none" "year" "2026" { addflag "never"; }
if date :count "eq" :comparator "i;ascii-numeric" "date" "year" "1" { addflag "has-date"; }
if date :zone "+0000" :matches "date" "std11" "*, * * * *:*:* *" {
    addflag "hm:${5}${6}";
}
