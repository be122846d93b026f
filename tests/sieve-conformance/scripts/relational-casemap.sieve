require ["fileinto", "relational"];
if header :value "gt" "x-under" "a" { fileinto "UnderGtA"; }
if header :value "lt" "x-under" "A_C" { fileinto "UnderLt"; }
if header :value "gt" :comparator "i;octet" "subject" "Z" { fileinto "OctetGt"; }
if header :count "ge" "received" "3" { fileinto "CountString"; }
if header :count "lt" "received" "10" { fileinto "CountString10"; }
# i;ascii-casemap orders as lower case in both engines: "l" > "[" > "L"
if header :value "le" "subject" "[" { fileinto "LeBracket"; }
if header :value "le" "subject" "\\" { fileinto "LeBackslash"; }
