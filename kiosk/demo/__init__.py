"""The demo: what a kiosk shows and plays without a real library behind it (the demo
launcher, its Xvfb display, the demo member card and its footage)."""
