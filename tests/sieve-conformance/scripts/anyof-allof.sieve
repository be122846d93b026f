require "fileinto";
if anyof (header :contains "subject" "viagra", header :contains "subject" "lunch") {
  fileinto "AnyOf";
}
if allof (exists "to", exists "cc", not exists "list-id") {
  fileinto "AllOf";
}
if not anyof (exists "x-none", false) { fileinto "NotAnyOf"; }
if allof (true, not true) { fileinto "Never"; }
