require "fileinto";
require ["imap4flags"];
require "comparator-i;octet";
addflag "$X";
if header :contains :comparator "i;octet" "subject" "Lunch" { fileinto "L"; }
