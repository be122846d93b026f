# discard cancels the implicit keep
discard;
