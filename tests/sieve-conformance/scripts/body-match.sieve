# body with every match type, comparators and variables in keys
require ["body", "fileinto", "imap4flags", "variables", "regex", "relational"];
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
