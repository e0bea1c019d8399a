"""Pure Python rules of the kiosk: no Kivy, no HTTP, no database."""
