# invalid address headers: Pigeonhole stops at the first entry that is no
# address, and a value without any address is seen whole by :all only
require ["fileinto","relational","comparator-i;ascii-numeric"];
if address :all :contains "to" "undisclosed" { fileinto "ToRaw"; }
if address :all :is "cc" "good@example.org" { fileinto "CcGood"; }
if address :all :contains "cc" "bad@@" { fileinto "CcRaw"; }
if address :domain :is "cc" "example.net" { fileinto "CcDomain"; }
if address :count "eq" :comparator "i;ascii-numeric" "cc" "1" { fileinto "CcCount1"; }
if address :count "eq" :comparator "i;ascii-numeric" "cc" "3" { fileinto "CcCount3"; }
if address :all :is "bcc" "plain words here" { fileinto "BccRaw"; }
if address :localpart :is "bcc" "plain" { fileinto "BccLocal"; }
if address :all :is "reply-to" "" { fileinto "EmptyRaw"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "1" { fileinto "ToCount1"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "0" { fileinto "ToCount0"; }
# an empty address header is "" for every part
if address :localpart :is "reply-to" "" { fileinto "EmptyLocal"; }
if address :domain :value "le" "reply-to" "007" { fileinto "EmptyDomainLe"; }
if address :localpart :is "to" "" { fileinto "InvalidLocalEmpty"; }
