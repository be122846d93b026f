require "fileinto";
if header :is "subject" "this subject is folded over	three lines" { fileinto "Unfolded"; }
if header :contains "subject" "folded over" { fileinto "Contains"; }
if address :is "from" "folded@example.com" { fileinto "FoldedFrom"; }
