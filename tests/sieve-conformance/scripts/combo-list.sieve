require ["fileinto", "imap4flags"];
if header :matches "list-id" "*<*.lists.example.org>" {
  fileinto :flags "$List" "Lists/Dev";
  stop;
}
if header :contains "subject" "[dev]" { fileinto "Tagged"; }
