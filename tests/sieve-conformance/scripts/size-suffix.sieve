require "fileinto";
if size :under 1K { fileinto "Under1K"; }
if size :over 1M { fileinto "Over1M"; }
if not size :over 100 { fileinto "NotOver100"; }
