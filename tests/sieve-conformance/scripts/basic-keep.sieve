# explicit keep only
keep;
