# removing the most recent flag (libsieve removes all)
require ["imap4flags", "fileinto"];
addflag ["A", "B"];
removeflag "B";
fileinto "One";
addflag "C D";
removeflag ["a", "x"];
keep;
