# backslash escapes in quoted strings
require "fileinto";
if header :contains "subject" "say \"hi\"" { fileinto "Quoted"; }
if header :contains "subject" "\\ back" { fileinto "Back"; }
if header :is "x-path" "C:\\temp\\file.txt" { fileinto "Path"; }
if header :contains "subject" "\h\i" { fileinto "Undefined"; }
