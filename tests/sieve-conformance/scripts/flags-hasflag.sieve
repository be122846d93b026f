require ["imap4flags", "fileinto", "relational", "comparator-i;ascii-numeric"];
addflag ["Alpha", "Beta"];
if hasflag "alpha" { fileinto "HasAlpha"; }
if hasflag :contains "et" { fileinto "ContainsEt"; }
if hasflag :matches "G*" { fileinto "NoG"; }
if hasflag :count "eq" :comparator "i;ascii-numeric" "2" { fileinto "Two"; }
removeflag "alpha";
if not hasflag "Alpha" { fileinto "AlphaGone"; }
if hasflag :is ["x", "BETA"] { addflag "Found"; }
