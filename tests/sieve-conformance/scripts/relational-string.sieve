require ["fileinto", "relational"];
if header :value "gt" "subject" "m" { fileinto "AfterM"; }
if header :value "lt" "x-priority" "5" { fileinto "StringLess"; }
if header :value "ne" "subject" "numbers" { fileinto "NotNumbers"; }
