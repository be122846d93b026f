require ["imap4flags", "fileinto"];
addflag "$Gone";
if header :contains "subject" "viagra" { discard; stop; }
keep :flags "$Kept";
