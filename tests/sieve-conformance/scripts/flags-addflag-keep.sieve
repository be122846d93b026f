require "imap4flags";
addflag "$Seen1";
addflag ["B", "A"];
keep;
