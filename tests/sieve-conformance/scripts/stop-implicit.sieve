# stop before any action: implicit keep
if true { stop; }
discard;
