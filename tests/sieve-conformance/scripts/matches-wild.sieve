require "fileinto";
if header :matches "subject" "*release ?.0*" { fileinto "M1"; }
if header :matches "subject" "Lunch*" { fileinto "M2"; }
if header :matches "from" "*@*.example*" { fileinto "M3"; }
if header :matches "subject" "?*" { fileinto "M4"; }
if header :matches "subject" "" { fileinto "M5"; }
if header :matches "x-empty" "" { fileinto "M6"; }
