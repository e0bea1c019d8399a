"""What the guestbook and the credentials add up to: today's figures, periods, the Dinas export."""
