require "fileinto";
if header :contains "subject" "" { fileinto "HasSubject"; }
if not header :matches "subject" "*" { fileinto "NoSubjectMatch"; }
if address :domain "to" "example.org" { fileinto "ToDomain"; }
if header :is "x-none" "" { fileinto "NoneEmpty"; }
