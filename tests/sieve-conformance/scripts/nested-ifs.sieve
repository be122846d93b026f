require "fileinto";
if exists "from" {
  if header :contains "subject" ["lunch", "release"] {
    if address :domain "from" "example.org" { fileinto "Friends"; }
    elsif address :domain :contains "from" "lists" { fileinto "Lists"; }
    else { fileinto "Other"; }
  } elsif header :matches "subject" "*viagra*" {
    fileinto "Junk";
  }
} else {
  fileinto "NoFrom";
}
