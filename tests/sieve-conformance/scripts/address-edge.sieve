require "fileinto";
if address :all :is "from" "hans@example.de" { fileinto "CommentFrom"; }
if address :domain :is "cc" "team.example" { fileinto "Group"; }
if address :all :is "cc" "plain@example.net" { fileinto "AfterGroup"; }
if address :all :is "reply-to" "no-angle@example.org" { fileinto "NoAngle"; }
if address :all :is "sender" "hans@example.de" { fileinto "EncodedSender"; }
if address :all :is "bcc" "real@example.com" { fileinto "QuotedAngle"; }
if address :domain :contains "resent-from" "example" { fileinto "Broken"; }
if address :localpart :is "to" "undisclosed-recipients" { fileinto "Undisclosed"; }
