require "fileinto";
if header :contains "subject" text:
viagra
.
{ fileinto "TextString"; }
if header :contains "subject" ["viagra", "lunch"] { fileinto "List"; }
