# includes inside conditions, and return in the main script
require ["include", "variables", "imap4flags", "fileinto"];
global "runs";
if exists "list-id" {
    include "_lists";
    addflag "after-lists";
} elsif address :domain "from" "example.org" {
    include :once "_counter";
    include :once "_counter";
}
if string :is "${runs}" "" { addflag "never-counted"; return; }
addflag "count-${runs}";
