# body with every match type, comparators and variables in keys
require ["body", "fileinto", "imap4flags", "variables", "regex", "relational",
         "encoded-character"];
if body :text :matches "*release*" { addflag "release"; }
if body :comparator "i;octet" :contains "release" { addflag "octet-release"; }
if body :regex "[0-9]+% off" { addflag "percent-off"; }
if body :content "text/plain" :regex "^Pr.sentation" { addflag "regex-latin1"; }
if body :is "" { addflag "empty"; }
if header :matches "subject" "*" { set "subj" "${1}"; }
if body :contains "${subj}" { addflag "subject-in-body"; }
if body :raw :matches "*--outer--*" { addflag "closing"; }
if body :value "gt" "zzz" { addflag "big"; }
if body :text :contains "Shipped" { fileinto "Orders"; }
# HTML made text, a quoted-printable line break as CRLF, a plain LF kept
if body :text :matches "Café crème*off!${hex:0d 0a}Second line here. " { addflag "html-text"; }
if body :content "text/html" :matches "<html>*${hex:0d 0a}Second*" { addflag "html-qp"; }
if body :text :matches "*Freitag.${hex:0a}Viagra*" { addflag "base64-lf"; }
