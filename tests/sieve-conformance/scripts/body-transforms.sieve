# body (RFC 5173): :text, :raw and :content over decoded parts
require ["body", "fileinto", "imap4flags", "relational",
         "comparator-i;ascii-numeric"];
if body :contains "Angebot" { addflag "text-base64"; }
if body :contains "Café crème" { addflag "text-html-qp"; }
if body :contains "<p>" { addflag "text-has-tags"; }
if body :contains "Présentation" { addflag "text-latin1"; }
if body :contains "prologue" { addflag "text-prologue"; }
if body :text :contains "JVBERi" { addflag "text-pdf"; }
if body :raw :contains "R3LDvMOfZSBhdXMgS8O2bG4" { addflag "raw-base64"; }
if body :raw :contains "Caf=C3=A9" { addflag "raw-qp"; }
if body :raw :contains "Content-Type: text/html" { addflag "raw-mime"; }
if body :raw :contains "Angebot" { addflag "raw-decoded"; }
if body :content "text/html" :contains "<p>" { addflag "html-tags"; }
if body :content "text" :contains "Angebot" { addflag "content-text"; }
if body :content ["image", "text/plain"] :contains "Pr" { addflag "content-list"; }
if body :content "multipart" :contains "prologue" { addflag "mp-prologue"; }
if body :content "multipart" :contains "Angebot" { addflag "mp-child"; }
if body :content "application/pdf" :contains "PDF" { addflag "pdf-decoded"; }
if body :content "" :count "eq" :comparator "i;ascii-numeric" "7" { addflag "seven-parts"; }
if body :content "multipart" :count "eq" :comparator "i;ascii-numeric" "3" { addflag "mp-three"; }
if body :count "eq" :comparator "i;ascii-numeric" "1" { addflag "one-text"; }
if body :contains ["viagra", "Viagra"] { fileinto "Junk"; }
