require ["fileinto", "imap4flags", "spamtestplus", "relational", "comparator-i;ascii-numeric"];
if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "90" {
  fileinto :flags "$Junk" "Junk";
} elsif spamtest :percent :value "ge" :comparator "i;ascii-numeric" "50" {
  addflag "$Maybe";
}
if spamtest :percent :is "100" { addflag "$Certain"; }
if spamtest :percent :value "lt" :comparator "i;ascii-numeric" "1" { fileinto "Zero"; }
