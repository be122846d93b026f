# included: counts how often it ran, in a global variable
require ["include", "variables", "imap4flags"];
global ["runs", "tail"];
set "runs" "${runs}I";
if header :contains "subject" ["Release", "order"] {
    addflag "counted";
    return;
}
set "tail" "reached";
