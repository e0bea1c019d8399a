"""The demo: what a kiosk shows and plays without a real library behind it."""
