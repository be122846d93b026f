# duplicate (RFC 7352): Pigeonhole's sieve-test keeps no IDs, so every
# message is seen for the first time; the grammar and the "not seen"
# answers are compared here, the "seen" ones in the unit tests
# (check_sieve duplicates, check_sort with the ledger).  Pigeonhole
# fails a run that tracks one ID twice, so each test here has its own.
require ["duplicate", "fileinto", "imap4flags", "variables"];
if duplicate { addflag "dup-mid"; }
if duplicate :header "subject" :seconds 60 { addflag "dup-subject"; }
if header :matches "from" "*" { set "from" "${1}"; }
if duplicate :handle "by-sender" :uniqueid "${from}" :last { addflag "dup-from"; }
if not duplicate :header "x-none" { addflag "nothing-to-track"; }
if anyof(duplicate :seconds 0 :handle "zero", duplicate :handle "h") { fileinto "Dups"; }
