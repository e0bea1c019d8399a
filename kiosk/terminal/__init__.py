"""The kiosk terminal at the entrance: session rules, scanner, screens, client and outbox."""
