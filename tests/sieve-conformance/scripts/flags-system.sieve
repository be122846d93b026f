require ["imap4flags"];
setflag "\\Seen \\Answered";
addflag "\\seen";
keep;
# the flag variable keeps system flags as written: i;octet tells
setflag "\\flagged";
if hasflag :is :comparator "i;octet" "\\flagged" { addflag "AsWritten"; }
if hasflag :is :comparator "i;octet" "\\Flagged" { addflag "Canonical"; }
keep;
# "\" names that are not system flags cannot be set: both engines drop them
addflag ["\\Foo", "\\Recent", "\\Draft"];
keep;
