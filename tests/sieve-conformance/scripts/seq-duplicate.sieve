# duplicate (RFC 7352) with state, over a sequence of deliveries (see
# SEQ_MESSAGES in run): Message-IDs, a header, a unique ID from a
# variable, handles that keep apart what two tests track
require ["duplicate", "fileinto", "variables", "mailbox"];
if duplicate {
    fileinto :create "Dup-MID";
}
if header :matches "from" "*@*" { set "dom" "${2}"; }
if duplicate :handle "by-domain" :uniqueid "${dom}" {
    fileinto :create "Dup-Domain";
}
if duplicate :header "subject" :handle "subj" :last {
    fileinto :create "Dup-Subject";
}
