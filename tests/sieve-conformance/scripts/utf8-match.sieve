require "fileinto";
if header :contains "subject" "über" { fileinto "Lower"; }
if header :contains "subject" "Über" { fileinto "UpperU"; }
if header :is "subject" "über ÜBER Straße" { fileinto "TrailingSpace"; }
if header :matches "subject" "*?ber ?BER*" { fileinto "QuestionMultibyte"; }
if header :matches "subject" "*Stra?e" { fileinto "Eszett"; }
if header :contains :comparator "i;octet" "subject" "ÜBER" { fileinto "OctetUpper"; }
if header :contains "from" "Müller, Hans" { fileinto "DecodedComma"; }
# evaluated by mailsift itself (escape in the pattern): "?" is one octet
if header :matches "subject" "\\über ??BER*" { fileinto "OwnOctet"; }
