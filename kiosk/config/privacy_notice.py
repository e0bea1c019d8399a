"""The guestbook's personal-data notice: default texts, with [privacy] retention_days in words."""

from __future__ import annotations

from typing import Any

PLACEHOLDER = "{retention}"

PRIVACY_NOTICE = {
    "id": "Data kunjungan disimpan {retention} untuk statistik perpustakaan (UU PDP 27/2022).",
    "en": "Visit data is kept for {retention} for library statistics (Law 27/2022 on PDP).",
}
PRIVACY_NOTICE_FULL = {
    "id": (
        "Perpustakaan mencatat nomor anggota, waktu kunjungan dan jawaban buku tamu "
        "untuk laporan statistik kunjungan. Data disimpan paling lama {retention}, tidak "
        "dibagikan kepada pihak lain, dan dapat Anda minta untuk dilihat atau dihapus "
        "di meja layanan (UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi)."
    ),
    "en": (
        "The library records your member number, the time of your visit and your "
        "guestbook answers for its visitor statistics. The data is kept for at most "
        "{retention}, is not shared with anyone, and you may ask at the desk to see or delete "
        "it (Law No. 27 of 2022 on Personal Data Protection)."
    ),
}


def retention_words(days: int) -> dict[str, str]:
    """365 -> "1 tahun" / "1 year"; 180 -> "6 bulan" / "6 months"; 45 -> "45 hari" / "45 days"."""
    if days % 365 == 0:
        count, id_unit, en_unit = days // 365, "tahun", "year"
    elif days % 30 == 0:
        count, id_unit, en_unit = days // 30, "bulan", "month"
    else:
        count, id_unit, en_unit = days, "hari", "day"
    return {"id": f"{count} {id_unit}", "en": f"{count} {en_unit}{'' if count == 1 else 's'}"}


def with_retention(data: dict[str, Any]) -> dict[str, Any]:
    """Raw settings with {retention} in the guestbook's notices written out (the defaults
    have it; a library's own text may). Anything malformed is left to validation."""
    privacy = data.get("privacy", {})
    guestbook = data.get("guestbook", {})
    if hasattr(guestbook, "model_dump"):  # a section given as a model, not as TOML's dict
        guestbook = guestbook.model_dump()
    if isinstance(privacy, dict):
        days = privacy.get("retention_days", 365)
    else:
        days = getattr(privacy, "retention_days", None)
    if not isinstance(guestbook, dict) or not isinstance(days, int) or days < 1:
        return data
    words = retention_words(days)
    notices = dict(guestbook)
    for key, default in (
        ("privacy_notice", PRIVACY_NOTICE),
        ("privacy_notice_full", PRIVACY_NOTICE_FULL),
    ):
        text = notices.get(key, default)
        if isinstance(text, dict):
            notices[key] = {
                lang: value.replace(PLACEHOLDER, words.get(lang, words["en"]))
                if isinstance(value, str)
                else value
                for lang, value in text.items()
            }
    return {**data, "guestbook": notices}
