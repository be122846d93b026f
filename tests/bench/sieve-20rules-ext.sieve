# 20 rules using variables, body and regex (issue 13), for tests/bench/sieve.
require ["fileinto", "imap4flags", "spamtestplus", "relational",
         "comparator-i;ascii-numeric", "subaddress", "variables", "body",
         "regex", "date", "copy"];
if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "90" {
	fileinto :flags "$Junk" "Junk"; stop;
}
if header :matches "list-id" "*<*.*>*" { set :lower "list" "${2}"; fileinto "Lists/${list}"; }
if header :regex "subject" "^\\[([a-z]+)\\]" { addflag "tag-${1}"; }
if address :detail "to" "*" { set "detail" "${1}"; }
if string :is "${detail}" ["shopping", "travel", "orders"] { fileinto :copy "Detail/${detail}"; }
if body :contains ["unsubscribe", "newsletter"] { fileinto "Newsletters"; }
if body :text :regex "invoice (no|number)[.:]? *[0-9]+" { fileinto "Invoices"; }
if header :regex "received" "from [^ ]*\\.spam\\.example" { fileinto "Suspicious"; }
if address :domain :regex "from" "(bank|broker)\\.example$" { addflag "\\Flagged"; }
if header :matches "from" "*<*@*>" { set :lower "sender" "${3}"; }
if string :contains "${sender}" "noreply" { addflag "$Automated"; }
if date :value "lt" :comparator "i;ascii-numeric" "date" "year" "2000" { addflag "$Old"; }
if exists "x-github-reason" { fileinto "GitHub"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-level" "5" { addflag "$High"; }
if anyof (body :content "text/html" :contains "casino", header :contains "subject" "viagra") {
	fileinto "Junk";
}
if allof (exists "in-reply-to", header :regex "subject" "^(re|aw): ") { addflag "$Thread"; }
if size :over 5M { fileinto "Large"; }
if hasflag "$Automated" { fileinto "Automated/${sender}"; }
if not exists "date" { addflag "$NoDate"; }
if header :contains "to" "undisclosed-recipients" { fileinto "Bulk"; }
