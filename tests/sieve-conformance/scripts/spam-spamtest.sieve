require ["fileinto", "spamtest", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "9" { fileinto "Spam9"; }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "5" { fileinto "Spam5"; }
elsif spamtest :is "1" { fileinto "Clean"; }
elsif spamtest :is "0" { fileinto "Untested"; }
