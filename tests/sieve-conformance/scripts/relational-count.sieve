require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :count "ge" :comparator "i;ascii-numeric" "received" "2" { fileinto "Hops2"; }
if header :count "eq" :comparator "i;ascii-numeric" "x-none" "0" { fileinto "CountZero"; }
if header :count "eq" :comparator "i;ascii-numeric" ["received", "from"] "4" { fileinto "Count4"; }
if address :all :is "cc" "bob@example.net" { fileinto "Bob"; }
