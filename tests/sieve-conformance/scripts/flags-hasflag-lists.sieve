# hasflag keys are flag lists: "A B" is two keys, "" none
require ["imap4flags", "fileinto", "relational", "comparator-i;ascii-numeric"];
addflag ["Alpha", "Beta"];
if hasflag "alpha zzz" { fileinto "AnyPart"; }
if hasflag "" { fileinto "Empty"; }
if hasflag :matches "*" { fileinto "Star"; }
if hasflag :count "eq" ["2 3"] { fileinto "CountList"; }
if hasflag :is " beta " { fileinto "Spaces"; }
if hasflag :contains "a b" { fileinto "Cross"; }
removeflag ["Alpha", "Beta"];
if hasflag :matches "*" { fileinto "StarNoFlags"; }
if hasflag :count "eq" "0" { fileinto "Zero"; }
# :matches, :value and :count take the key whole; :is and :contains split it
addflag ["Alpha", "Beta"];
if hasflag :value "le" :comparator "i;ascii-numeric" "" { fileinto "ValEmpty"; }
if hasflag :contains "" { fileinto "ContainsEmpty"; }
if hasflag :value "eq" "alpha zzz" { fileinto "ValueEqWhole"; }
if hasflag :matches "alp* zzz" { fileinto "MatchWhole"; }
if hasflag :contains "pha zz" { fileinto "ContainsSplit"; }
