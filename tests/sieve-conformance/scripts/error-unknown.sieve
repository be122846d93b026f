frobnicate "x";
keep;
