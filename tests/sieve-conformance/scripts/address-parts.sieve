require "fileinto";
if address :localpart "from" "alice" { fileinto "Local"; }
if address :domain "to" "example.org" { fileinto "Domain"; }
if address :all :is "cc" "carol@sub.example.net" { fileinto "AllCc"; }
if address :domain :matches "cc" "*.example.net" { fileinto "SubDomain"; }
if address :domain :is "from" "spam.example" { fileinto "DomainCase"; }
if address :localpart :contains "from" "promo" { fileinto "LocalContains"; }
