# included: files list mail, with its own local variable
require ["include", "variables", "fileinto"];
if header :matches "list-id" "*<*.*>*" {
    set "name" "${2}";
    fileinto "Lists/${name}";
    return;
}
include :once "_counter";
set "local" "lists-only";
