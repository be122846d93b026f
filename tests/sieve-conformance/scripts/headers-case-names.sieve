require "fileinto";
if header :is "SUBJECT" "hello world" { fileinto "UpperName"; }
if header :contains "From" "upper" { fileinto "FromUpper"; }
if address :is "from" "upper@example.org" { fileinto "AddrUpper"; }
