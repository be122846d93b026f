# flags set before the implicit keep are kept
require "imap4flags";
if header :contains "subject" "lunch" { addflag "\\Flagged"; }
addflag "$Checked";
