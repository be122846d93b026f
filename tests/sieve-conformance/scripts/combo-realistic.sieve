# a typical owner script
require ["fileinto", "imap4flags", "relational", "comparator-i;ascii-numeric", "subaddress"];
if address :detail "to" "shopping" { fileinto "Shopping"; stop; }
if exists "list-id" { fileinto "Lists"; stop; }
if anyof (header :contains "subject" ["viagra", "casino"],
          address :domain :is "from" ["spam.example", "junk.example"]) {
  fileinto :flags "$Junk" "Junk";
  stop;
}
if header :contains "from" "alice" { addflag "\\Flagged"; }
