require "fileinto";
if exists ["From", "To", "Subject"] { fileinto "HasAll"; }
if exists "X-Empty" { fileinto "EmptyHeader"; }
if not exists "subject" { fileinto "NoSubject"; }
