# escaped wildcards match literally
require "fileinto";
if header :matches "subject" "*\\*now\\**" { fileinto "Star"; }
if header :matches "subject" "*now\\?*" { fileinto "Question"; }
if header :matches "subject" "*\\\\ back*" { fileinto "Backslash"; }
if header :matches "subject" "*\\*today\\*" { fileinto "Today"; }
