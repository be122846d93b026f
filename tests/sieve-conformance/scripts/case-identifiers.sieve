# identifiers and tags are case-insensitive
REQUIRE ["fileinto", "relational"];
IF Header :Contains "subject" "a" { FileInto "Upper"; }
if header :value "ge" :comparator "i;ascii-casemap" "subject" "a" { fileinto "RelUpper"; }
If AnyOf (Exists "X-None", NOT false) { Keep; }
