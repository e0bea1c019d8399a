"""Plausible reads of the symbologies without a check of their own (Codabar, Code 39, ITF):
the characters and length a card can carry, so a partial read never passes as a card."""

from __future__ import annotations

from kiosk.terminal.scanner.decoders import Symbol

# Data characters (without Codabar's start/stop letters) a member card or a book's label
# carries: fewer than 4 is a fragment of a longer symbol (a Codabar C41025419B has been
# read as C41D), more than 32 fits no card.
CARD_DATA_LENGTH = (4, 32)
CODABAR_START_STOP = frozenset("ABCDTNE*")  # zxing-cpp and ZBar print A-D; some T N * E
CODABAR_DATA = frozenset("0123456789-$:/.+")
# Code 39 in full-ASCII mode (zxing-cpp reads it so) carries printable ASCII.
CODE39_DATA = frozenset(chr(c) for c in range(0x20, 0x7F))
NOT_SELF_CHECKING = frozenset({"Codabar", "Code39", "Code39Std", "ITF"})


def implausible(symbol: Symbol) -> str | None:
    """Why `symbol` cannot be a card's whole barcode, or None when it can be (and for every
    symbology that carries a check of its own: its decoder already verified it)."""
    fmt, text = symbol.format, symbol.text
    if fmt not in NOT_SELF_CHECKING:
        return None
    data = text
    if fmt == "Codabar":
        if len(text) < 2 or text[0] not in CODABAR_START_STOP or text[-1] not in CODABAR_START_STOP:
            return "Codabar without its start and stop letters"
        data = text[1:-1]
        if not set(data) <= CODABAR_DATA:
            return "a character Codabar cannot carry"
    elif fmt == "ITF":
        if not data.isdigit() or len(data) % 2:
            return "ITF carries an even number of digits"
    elif not set(data) <= CODE39_DATA:
        return "a character a Code 39 card does not carry"
    low, high = CARD_DATA_LENGTH
    if not low <= len(data) <= high:
        return "too short for a card" if len(data) < low else "too long for a card"
    return None
