# include (RFC 6609): :personal scripts beside this one, return,
# :once, :optional, global and local variables
require ["include", "variables", "fileinto", "imap4flags"];
global ["runs", "tail"];
include "_lists";
include :personal "_counter";
include :once "_counter";
include :optional "_missing";
addflag "runs-${runs}";
addflag "tail-${tail}";
if string :is "${local}${name}" "" { addflag "locals-stay-local"; }
if string :is "${global.runs}" "${runs}" { addflag "namespace"; }
if header :contains "subject" "viagra" { return; }
fileinto "After";
