require "fileinto";
if header :contains ["subject", "from"] ["release", "example.com"] { fileinto "C1"; }
if header :contains "to" "" { fileinto "EmptyKey"; }
if header :contains "received" "c.example" { fileinto "Received"; }
