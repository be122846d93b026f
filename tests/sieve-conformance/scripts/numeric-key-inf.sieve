require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :is :comparator "i;ascii-numeric" "x-rank" "xyz" { fileinto "InfEqInf"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-priority" "none" { fileinto "LessThanInf"; }
