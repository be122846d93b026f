require "fileinto";
if header :contains "subject" "zzz" { fileinto "Z"; }
elsif header :contains "subject" "order" { fileinto "Order"; }
elsif header :contains "subject" "lunch" { fileinto "Lunch"; }
elsif true { fileinto "Default"; }
else { fileinto "Never"; }
