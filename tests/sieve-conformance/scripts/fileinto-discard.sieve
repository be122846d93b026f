require "fileinto";
if header :contains "from" "alice" { discard; }
if header :is "subject" "Lunch tomorrow?" { fileinto "Lunch"; }
