require "fileinto";
if address :is "from" "q@example.com" { fileinto "QuotedName"; }
if header :contains "from" "\"Q\"" { fileinto "QuoteInHeader"; }
if header :contains "x-path" "\\temp\\" { fileinto "Backslashes"; }
