require "fileinto";
if exists "x-mailer" { fileinto "Bulk"; stop; }
fileinto "Other";
