"""Check digits and symbology families: which reads carry a check, and whether it holds."""

from __future__ import annotations

from kiosk.terminal.scanner.decoders import Symbol

# EAN/UPC carry a check digit by definition: a read that fails it is a misread.
MANDATORY_CHECK = frozenset({"EAN13", "EAN8", "UPCA", "UPCE", "ISBN", "ITF14"})
# Check characters a library may or may not print (verified only when configured).
OPTIONAL_CHECK = frozenset({"Code39", "ITF"})
# 2-D symbols carry Reed-Solomon error correction: a misread is all but impossible.
SELF_CHECKING = frozenset(
    {"QRCode", "MicroQRCode", "RMQRCode", "DataMatrix", "Aztec", "PDF417", "MaxiCode"}
)
LINEAR_FORMATS = frozenset(
    {"Codabar", "Code39", "Code39Std", "Code39Ext", "Code32", "PZN", "Code93", "Code128", "ITF",
     "ITF14", "EAN13", "EAN8", "UPCA", "UPCE", "ISBN", "EANUPC", "DataBar", "DataBarExp",
     "DataBarLtd", "DataBarOmni"}
)  # fmt: skip


def gtin_valid(digits: str) -> bool:
    """EAN-13/EAN-8/UPC-A/ITF-14: the last digit is the mod-10 check of the others."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def upce_to_upca(digits: str) -> str:
    """Expand an 8-digit UPC-E (number system, 6 digits, check) to its 12-digit UPC-A."""
    ns, d, check = digits[0], digits[1:7], digits[7]
    last = d[5]
    if last in "012":
        body = d[0:2] + last + "0000" + d[2:5]
    elif last == "3":
        body = d[0:3] + "00000" + d[3:5]
    elif last == "4":
        body = d[0:4] + "00000" + d[4]
    else:
        body = d[0:5] + "0000" + last
    return ns + body + check


_CODE39_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"


def code39_mod43_valid(text: str) -> bool:
    if len(text) < 2 or any(c not in _CODE39_CHARS for c in text):
        return False
    return _CODE39_CHARS[sum(_CODE39_CHARS.index(c) for c in text[:-1]) % 43] == text[-1]


def check_symbol(symbol: Symbol, verify_optional: bool) -> Symbol | None:
    """The symbol if its check digit holds, None for a misread. A verified optional check
    character (Code 39 mod 43, ITF mod 10) is removed: it is not part of the card number."""
    fmt, text = symbol.format, symbol.text
    if fmt in MANDATORY_CHECK:
        if fmt == "UPCE":
            return (
                symbol
                if len(text) == 8 and text.isdigit() and gtin_valid(upce_to_upca(text))
                else None
            )
        return symbol if gtin_valid(text) else None
    if verify_optional and fmt in OPTIONAL_CHECK:
        ok = code39_mod43_valid(text) if fmt == "Code39" else gtin_valid(text)
        if not ok:
            return None
        return Symbol(text[:-1], fmt, symbol.points, symbol.decoder)
    return symbol
