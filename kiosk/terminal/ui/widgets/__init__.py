"""Kiosk widgets: camera view, keypads, choice chips, QR code."""
