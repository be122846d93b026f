# set modifiers and the string test
require ["fileinto", "variables", "imap4flags", "relational",
         "comparator-i;ascii-numeric"];
set "a" "Hello";
set :upper "u" "${a} wOrld";
set :lower "l" "${u}";
set :upperfirst "uf" "mIXED";
set :lowerfirst :upper "lfu" "mixed";
set :quotewildcard "qw" "what*is?this\\";
set :length "n" "Grüße";
set :length :upper "n2" "abc";
set "empty" "";
set "A" "${a}-again";
if string :is "${u}|${l}|${uf}|${lfu}" "HELLO WORLD|hello world|MIXED|mIXED" {
    addflag "mods";
}
if string :is "${qw}" "what\\*is\\?this\\\\" { addflag "qw"; }
if string :value "eq" :comparator "i;ascii-numeric" "${n}" "5" { addflag "len5"; }
if string :is "${n2}" "3" { addflag "len3"; }
if string :count "eq" :comparator "i;ascii-numeric" ["${empty}", "x", "${undefined}"] "1" {
    addflag "count1";
}
if string :is "${a}" "Hello-again" { addflag "reassigned"; }
if string :contains ["${a}", "zz"] "again" { addflag "contains"; }
if header :contains "subject" "${empty}" { addflag "emptykey"; }
addflag "${A}";
