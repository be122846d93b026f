require "fileinto";
if size :over 10K { fileinto "Big"; }
if size :under 20 { fileinto "Tiny"; }
if size :over 10 { fileinto "Some"; }
