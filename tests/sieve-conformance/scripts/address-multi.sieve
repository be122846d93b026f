require "fileinto";
if address :is ["to", "cc"] "friend@example.com" { fileinto "Friend"; }
if address :domain :is "cc" "example.com" { fileinto "CcDomain"; }
if address :all :contains "from" "lists.example.org" { fileinto "ListFrom"; }
if address :localpart :is "sender" "dev-bounces" { fileinto "Sender"; }
