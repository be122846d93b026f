# currentdate, written so that the result does not depend on when the
# suite runs: relations that hold for decades, and the message's date
# against today
require ["date", "variables", "imap4flags", "relational",
         "comparator-i;ascii-numeric", "fileinto", "regex"];
if currentdate :value "ge" :comparator "i;ascii-numeric" "year" "2026" {
    addflag "now-after-2026";
}
if currentdate :value "lt" :comparator "i;ascii-numeric" "year" "2100" {
    addflag "now-before-2100";
}
if currentdate :zone "+0000" :is "zone" "+0000" { addflag "utc-zone"; }
if currentdate :zone "-0800" :is "zone" "-0800" { addflag "pst-zone"; }
if currentdate :matches "julian" "*" { set "today" "${1}"; }
if date :value "lt" :comparator "i;ascii-numeric" "date" "julian" "${today}" {
    addflag "dated-before-today";
}
if currentdate :matches "weekday" "[0-6]" { addflag "never-a-glob-class"; }
if currentdate :matches "weekday" "?" { addflag "one-digit-weekday"; }
if currentdate :regex "iso8601" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T" { addflag "iso"; }
if currentdate :matches "std11" "*, ?? * ???? ??:??:?? [+-]*" { addflag "never"; }
if currentdate :matches "std11" "*, ?? * ???? ??:??:?? *" { addflag "std11-shape"; }
if date :value "gt" "date" "date" "2025-01-01" { fileinto "Recent"; }
