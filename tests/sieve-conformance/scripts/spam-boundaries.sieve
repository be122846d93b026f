require ["fileinto", "spamtestplus", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "10" { fileinto "Ten"; }
if spamtest :value "eq" :comparator "i;ascii-numeric" "1" { fileinto "One"; }
if spamtest :percent :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "PctZero"; }
if spamtest :percent :value "eq" :comparator "i;ascii-numeric" "50" { fileinto "Pct50"; }
if spamtest :percent :value "eq" :comparator "i;ascii-numeric" "89" { fileinto "Pct89"; }
if spamtest :percent :value "eq" :comparator "i;ascii-numeric" "90" { fileinto "Pct90"; }
if spamtest :value "eq" :comparator "i;ascii-numeric" "9" { fileinto "Nine"; }
if spamtest :value "eq" :comparator "i;ascii-numeric" "5" { fileinto "Five"; }
