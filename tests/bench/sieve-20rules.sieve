# 20 rules of the kinds owners write, for tests/bench/sieve.
require ["fileinto", "imap4flags", "spamtestplus", "relational",
         "comparator-i;ascii-numeric", "subaddress"];
if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "90" {
	fileinto :flags "$Junk" "Junk"; stop;
}
if header :contains "list-id" "dev.lists.example.org" { fileinto "Lists/Dev"; }
if header :contains "list-id" "users.lists.example.org" { fileinto "Lists/Users"; }
if address :domain :is "from" ["bank.example", "broker.example"] { addflag "\\Flagged"; }
if address :detail "to" "shopping" { fileinto "Shopping"; }
if address :detail "to" "travel" { fileinto "Travel"; }
if header :matches "subject" "*[Invoice]*" { fileinto "Invoices"; }
if header :contains "subject" ["unsubscribe", "newsletter"] { fileinto "Newsletters"; }
if exists "x-github-reason" { fileinto "GitHub"; }
if header :is "x-priority" "1" { addflag "$Important"; }
if header :value "ge" :comparator "i;ascii-numeric" "x-level" "5" { addflag "$High"; }
if address :all :is "from" "boss@example.org" { addflag "\\Flagged"; }
if anyof (header :contains "subject" "casino", header :contains "subject" "viagra") {
	fileinto "Junk";
}
if allof (exists "in-reply-to", header :contains "subject" "Re:") { addflag "$Thread"; }
if header :contains "from" "noreply" { addflag "$Automated"; }
if size :over 5M { fileinto "Large"; }
if hasflag "$Important" { fileinto "Priority"; }
if header :matches "received" "*mx.spam.example*" { fileinto "Suspicious"; }
if not exists "date" { addflag "$NoDate"; }
if header :contains "to" "undisclosed-recipients" { fileinto "Bulk"; }
