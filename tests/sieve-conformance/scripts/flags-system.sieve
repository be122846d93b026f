require ["imap4flags"];
setflag "\\Seen \\Answered";
addflag "\\seen";
keep;
