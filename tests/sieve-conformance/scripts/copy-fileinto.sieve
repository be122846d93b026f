# copy (RFC 3894): :copy files a copy and leaves the implicit keep alone
require ["fileinto", "copy", "imap4flags"];
if header :contains "subject" "Release" {
    fileinto :copy "Lists";
}
if address :domain "from" "example.org" {
    addflag "$Seen";
    fileinto :copy :flags "Tagged" "Copies";
}
if header :contains "subject" "order" {
    fileinto :copy "Orders";
    fileinto "Orders";
}
if exists "x-priority" {
    fileinto :copy "Prio";
    discard;
}
if header :contains "subject" "viagra" {
    fileinto :copy "Spamcopy";
    keep :flags "K";
}
