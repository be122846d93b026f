# hash comment
require "fileinto"; /* bracket
comment over lines */
if /* inline */ header :contains "subject" "release" { fileinto "Rel"; } # tail
