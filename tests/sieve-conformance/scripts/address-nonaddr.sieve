require "fileinto";
if address :all :contains "x-under" "a" { fileinto "NonAddressHeader"; }
