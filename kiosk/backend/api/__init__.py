"""The kiosks' HTTP API: routes, the guard in front of them, tokens, limits and errors."""
