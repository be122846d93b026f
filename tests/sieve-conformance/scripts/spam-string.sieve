require ["fileinto", "spamtest", "relational"];
if spamtest :value "ge" "5" { fileinto "StringGe5"; }
if spamtest :matches "1*" { fileinto "StartsWith1"; }
if spamtest :count "eq" "1" { fileinto "CountOne"; }
