require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :is :comparator "i;ascii-numeric" "x-rank" "xyz" { fileinto "InfEqInf"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-priority" "none" { fileinto "LessThanInf"; }
# an empty value is only :is the empty key; for :value it is infinity
if header :is :comparator "i;ascii-numeric" "x-empty" "A" { fileinto "EmptyIsInf"; }
if header :is :comparator "i;ascii-numeric" "x-empty" "" { fileinto "EmptyIsEmpty"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-empty" "5" { fileinto "EmptyGt5"; }
if header :is :comparator "i;ascii-numeric" "x-rank" "" { fileinto "InfIsEmptyKey"; }
