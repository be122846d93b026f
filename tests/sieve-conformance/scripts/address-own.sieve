# address tests mailsift evaluates itself (libsieve would get them wrong)
require ["fileinto", "relational", "comparator-i;ascii-numeric", "subaddress"];
if address :all :matches "from" "*@*.*" { fileinto "TwoStars"; }
if address :domain :matches ["to", "cc"] "*e*a*" { fileinto "ThreeStars"; }
if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "3" { fileinto "Count3"; }
if address :count "eq" :comparator "i;ascii-numeric" "cc" "0" { fileinto "NoCc"; }
if address :localpart :is "from" "\"Q\"" { fileinto "QuoteKey"; }
if address :all :matches "from" "*\\?*" { fileinto "EscapedQ"; }
if address :localpart :value "gt" :comparator "i;octet" "from" "Z" { fileinto "OctetGt"; }
if address :user :matches "to" "m*e*" { fileinto "UserStars"; }
if address :detail :matches ["to", "cc", "delivered-to"] "*o*r*" { fileinto "DetailStars"; }
if address :localpart :value "ge" :comparator "i;ascii-numeric" "from" "5" { fileinto "NumericLocal"; }
# :count counts addresses, with or without the part
if address :detail :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "2" { fileinto "DetailCount2"; }
