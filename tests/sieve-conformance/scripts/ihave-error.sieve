# ihave and error (RFC 5463)
require ["ihave", "fileinto", "variables", "imap4flags"];
if ihave "frobnicate" {
    frobnicate "anything goes in here";
} elsif ihave ["copy", "imap4flags"] {
    addflag "has-copy";
    fileinto :copy "Copied";
}
if ihave "reject" { reject "no"; }
if ihave "vacation" { vacation "away"; }
if not ihave "redirect" { fileinto "NoRedirect"; }
if header :contains "subject" "Release" {
    error "releases are not sorted here";
}
if anyof(ihave "envelope", ihave ["editheader"]) { fileinto "Never"; }
if ihave "variables" { addflag "never-variables"; }
if ihave ["encoded-character"] { fileinto "NeverEncoded"; }
