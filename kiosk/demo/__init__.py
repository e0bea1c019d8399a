"""The demo: a backend with demo members and the kiosk together, on Xvfb when headless."""
