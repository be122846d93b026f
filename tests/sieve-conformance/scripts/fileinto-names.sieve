# folder names: non-ASCII, hierarchy, spaces, escapes
require "fileinto";
if header :contains "subject" "a" { fileinto "Ünicode/Ordner"; }
if header :contains "subject" "e" { fileinto "With Space"; }
if header :contains "subject" "o" { fileinto "Quote\"d"; }
if true { fileinto "Back\\slash"; }
