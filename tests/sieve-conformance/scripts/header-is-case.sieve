require "fileinto";
if header :is "subject" "hello world" { fileinto "CaseMap"; }
if header :is :comparator "i;octet" "subject" "hello world" { fileinto "Octet"; }
if header :is :comparator "i;octet" "subject" "HELLO WORLD" { fileinto "OctetUpper"; }
if header :contains "x-mixed" "mixed case" { fileinto "Mixed"; }
