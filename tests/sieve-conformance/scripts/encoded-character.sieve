# encoded-character (RFC 5228 2.4.2.4)
require ["fileinto", "encoded-character", "imap4flags"];
if header :contains "subject" "${hex:52 65}lease" {
    fileinto "${hex:4c}ists${hex: 2f 44 65 76 }";
}
if header :contains "subject" "${unicode:47}r${unicode:fc}${UNICODE:00df}e" {
    fileinto "Gr${unicode:00FC}${unicode: df}e";
}
if header :contains "from" "${unicode:fc}" { addflag "umlaut"; }
if header :is "subject" "${hex:}${hex:zz}" { addflag "literal"; }
if header :contains "subject" "$${hex:41}" { addflag "dollar"; }
addflag "${hex:41 42}${Hex:44}";
if header :contains "subject" "${hex:0041}" { addflag "never"; }
