require "fileinto";
if header :contains "x-key" "backslash\\" { fileinto "TrailingBackslash"; }
if header :is "x-key" "ends with backslash\\" { fileinto "IsBackslash"; }
if header :matches "x-key" "*\\\\" { fileinto "MatchesBackslash"; }
if header :contains "x-key" "with" { fileinto "Plain"; }
