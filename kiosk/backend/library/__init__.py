"""The library's members: the local copy, SLiMS and INLISLite, and the write-back of visits."""
