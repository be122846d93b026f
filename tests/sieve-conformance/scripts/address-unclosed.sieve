# an address list with an unclosed "<": what is read of it, and of the
# entries after it
require ["fileinto","relational","comparator-i;ascii-numeric"];
if address :all :is "to" "first@example.org" { fileinto "ToFirst"; }
if address :all :is "to" "second@example.net" { fileinto "ToSecond"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "0" { fileinto "ToCount0"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "1" { fileinto "ToCount1"; }
if address :count "eq" :comparator "i;ascii-numeric" "to" "2" { fileinto "ToCount2"; }
if address :all :contains "to" "first" { fileinto "ToHasFirst"; }
if address :all :contains "to" "Someone" { fileinto "ToHasName"; }
if address :all :is "cc" "fifth@example.net" { fileinto "CcFifth"; }
if address :all :is "cc" "third@example.com" { fileinto "CcThird"; }
if address :count "eq" :comparator "i;ascii-numeric" "cc" "1" { fileinto "CcCount1"; }
if address :count "eq" :comparator "i;ascii-numeric" "cc" "2" { fileinto "CcCount2"; }
if address :count "eq" :comparator "i;ascii-numeric" "cc" "3" { fileinto "CcCount3"; }
if address :all :contains "cc" "third" { fileinto "CcHasThird"; }
if address :domain :is "cc" "example.net" { fileinto "CcDomainNet"; }
if address :all :is "bcc" "sixth@example.org" { fileinto "BccSixth"; }
if address :all :is "bcc" "seventh@example.net" { fileinto "BccSeventh"; }
if address :all :is "bcc" "eighth@example.com" { fileinto "BccEighth"; }
if address :count "eq" :comparator "i;ascii-numeric" "bcc" "0" { fileinto "BccCount0"; }
if address :count "eq" :comparator "i;ascii-numeric" "bcc" "1" { fileinto "BccCount1"; }
if address :count "eq" :comparator "i;ascii-numeric" "bcc" "2" { fileinto "BccCount2"; }
if address :count "eq" :comparator "i;ascii-numeric" "bcc" "3" { fileinto "BccCount3"; }
if address :all :contains "bcc" "sixth" { fileinto "BccHasSixth"; }
if address :all :is "reply-to" "ninth@example.org" { fileinto "RtNinth"; }
if address :all :is "reply-to" "tenth@example.net" { fileinto "RtTenth"; }
if address :count "eq" :comparator "i;ascii-numeric" "reply-to" "0" { fileinto "RtCount0"; }
if address :count "eq" :comparator "i;ascii-numeric" "reply-to" "1" { fileinto "RtCount1"; }
if address :count "eq" :comparator "i;ascii-numeric" "reply-to" "2" { fileinto "RtCount2"; }
if address :all :contains "reply-to" "ninth" { fileinto "RtHasNinth"; }
