"""Library self-service kiosk: member card -> guestbook -> Wi-Fi credential."""

__version__ = "0.1.0"
