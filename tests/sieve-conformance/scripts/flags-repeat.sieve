# repeated folder takes the last flags
require ["imap4flags", "fileinto"];
fileinto :flags "Q" "X";
addflag "B";
fileinto "X";
keep :flags "K";
keep;
