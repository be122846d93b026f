require "fileinto";
if header :contains "subject" "Cheap viagra" { fileinto "Decoded"; }
if header :contains "subject" "für dich" { fileinto "Umlaut"; }
if header :is "x-tag" "Grüße" { fileinto "Tag"; }
if header :contains "from" "Jörg" { fileinto "FromName"; }
if address :is "from" "joerg@example.de" { fileinto "FromAddr"; }
if header :contains "to" "Me Myself" { fileinto "ToName"; }
