require ["imap4flags", "fileinto"];
addflag "$Before";
if exists "x-mailer" { addflag "$Bulk"; stop; }
removeflag "$Before";
