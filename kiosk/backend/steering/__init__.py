"""What the console steers: the versioned settings document and the library's locations."""
