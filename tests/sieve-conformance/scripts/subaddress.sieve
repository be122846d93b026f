require ["fileinto", "subaddress"];
if address :detail "to" "shopping" { fileinto "Shopping"; }
if address :user "to" "me" { fileinto "UserMe"; }
if address :detail "delivered-to" "orders" { fileinto "Orders"; }
if address :detail :is "cc" "" { fileinto "EmptyDetail"; }
if address :detail :matches "from" "*" { fileinto "AnyDetail"; }
