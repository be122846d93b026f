# scripts written for other filters read the score header
require ["fileinto", "relational"];
if header :matches "x-spam-score" "0.9*" { fileinto "Header09"; }
if exists "x-spam-score" { addflag "$Scored"; }
if header :value "ge" "x-spam-score" "0.5" { fileinto "StringGe05"; }
