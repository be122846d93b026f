# index (RFC 5260): the n-th header field, from the first or the last
require ["index", "date", "variables", "imap4flags", "fileinto"];
if header :index 1 :matches "received" "from * by *;*" { addflag "first-${1}"; }
if header :index 2 :matches "received" "from * by *;*" { addflag "second-${1}"; }
if header :index 1 :last :matches "received" "from * by *;*" { addflag "last-${1}"; }
if header :index 2 :last :contains "received" "example" { addflag "second-last"; }
if header :index 9 :contains "received" "" { addflag "no-ninth"; }
if address :index 1 :domain "from" "example.org" { addflag "from-org"; }
if address :index 1 :last :all :contains "to" "example" { addflag "to-example"; }
if exists "received" {
    if not header :index 3 :contains "received" "" { addflag "fewer-than-3"; }
}
