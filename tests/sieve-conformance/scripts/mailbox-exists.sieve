# mailbox (RFC 5490): fileinto :create, mailboxexists over the folders
require ["fileinto", "mailbox", "imap4flags"];
if mailboxexists "Junk" {
    if header :contains "subject" ["viagra", "offer", "Angebot"] {
        fileinto :create "Junk";
    }
}
if mailboxexists ["INBOX", "Archive"] {
    addflag "both";
}
if mailboxexists ["Archive", "Nowhere"] {
    addflag "never";
}
if not mailboxexists "Lists" {
    if exists "list-id" { fileinto :create "Lists"; }
}
if mailboxexists "inbox" { addflag "inbox-any-case"; }
if mailboxexists "junk" { addflag "junk-lower"; }
