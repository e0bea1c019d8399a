"""Members' personal data: the retention purge, a member's export and erasure."""
