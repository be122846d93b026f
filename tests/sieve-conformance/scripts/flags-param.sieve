require ["imap4flags", "fileinto"];
addflag "Global";
fileinto :flags ["$Junk", "\\Seen"] "Junk";
fileinto "Plain";
keep :flags "";
