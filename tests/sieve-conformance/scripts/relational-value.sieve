require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :value "ge" :comparator "i;ascii-numeric" "x-priority" "5" { fileinto "Prio5"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-priority" "5" { fileinto "PrioLow"; }
if header :value "eq" :comparator "i;ascii-numeric" "x-level" "7" { fileinto "Level7"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-rank" "1000" { fileinto "RankInf"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-neg" "5" { fileinto "NegInf"; }
if header :is :comparator "i;ascii-numeric" "x-zero" "7" { fileinto "Zero"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-big" "99999" { fileinto "Big"; }
