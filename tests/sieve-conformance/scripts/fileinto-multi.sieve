# two folders, one repeated; keep as well
require "fileinto";
fileinto "A";
fileinto "B";
fileinto "A";
if exists "cc" { keep; }
