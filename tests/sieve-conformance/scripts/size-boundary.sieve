# ham.eml is 264 bytes: both engines count the bytes of the message as given
require "fileinto";
if size :over 263 { fileinto "Over263"; }
if size :over 264 { fileinto "Over264"; }
if size :under 264 { fileinto "Under264"; }
if size :under 265 { fileinto "Under265"; }
