REQUIRE "fileinto";
IF Header :Contains "subject" "a" { FileInto "Upper"; }
if header :value "GE" :comparator "i;ascii-casemap" "subject" "a" { fileinto "RelUpper"; }
