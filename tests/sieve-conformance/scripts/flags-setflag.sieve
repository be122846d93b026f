# setflag after addflag (libsieve double-frees here)
require ["imap4flags", "fileinto"];
addflag "X";
setflag "Y";
setflag ["Z", "W"];
fileinto "Box";
