# variables (RFC 5229): sort list mail into Lists/${name}, as users do
require ["fileinto", "variables", "imap4flags"];
if header :matches "list-id" "*<*.*>*" {
    set :lower "list" "${2}";
    fileinto "Lists/${list}";
    stop;
}
if address :matches :domain "from" "*.*" {
    set "dom" "${1}";
}
if header :matches "subject" "[*] *" {
    set :upperfirst "tag" "${1}";
    addflag "${tag}";
}
if string :is "${dom}" "" {
    fileinto "NoDomain";
} else {
    fileinto "From/${dom}";
}
