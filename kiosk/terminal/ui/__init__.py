"""The Kivy kiosk app. Kivy is imported only under this package."""
