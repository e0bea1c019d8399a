"""The Pengaturan form: the settings document's questions, read back from a form into a
document, and each refusal placed beside its field."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from kiosk.config.steered import SteeredSettings

QUESTION_LISTS = ("guestbook.fields", "guests.fields")
TIMEOUTS = ("lookup", "guestbook", "checkin", "credentials", "thanks", "notice", "keypad")
POLICY = ("daily_minutes", "devices", "download_kbps", "upload_kbps", "idle_minutes")


@dataclass(frozen=True)
class Question:
    """One input of the form: the document's dotted key and how it is typed."""

    path: str
    kind: str  # text | long | lines | int | float | bool | choice
    options: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return field_id(self.path)


def field_id(path: str) -> str:
    return "f-" + path.replace(".", "-").replace("_", "-")


def _q(kind: str, *paths: str, options: tuple[str, ...] = ()) -> list[Question]:
    return [Question(path, kind, options) for path in paths]


SECTIONS: dict[str, list[Question]] = {
    "library": [
        *_q("text", "library.name", "library.logo", "library.wifi_ssid", "library.login_url"),
        *_q("text", "library.qr_template"),
        *_q("lines", "library.letterhead"),
        *_q("text", "library.city", "library.signatory.name", "library.signatory.nip"),
        *_q("text", "library.signatory.title"),
    ],
    "guestbook": _q("int", "guestbook.repeat_window_minutes"),
    "privacy": _q(
        "long",
        "guestbook.privacy_notice.id",
        "guestbook.privacy_notice.en",
        "guestbook.privacy_notice_full.id",
        "guestbook.privacy_notice_full.en",
    ),
    "guests": [
        *_q("choice", "guests.internet", options=("none", "voucher")),
        *_q("float", "guests.voucher_hours"),
        *_q("int", "guests.vouchers_per_day", "guests.max_group_size"),
        *_q("bool", "guests.group_gender_counts"),
    ],
    "members": [
        *_q("choice", "members.typed_entry", options=("verify", "guestbook-only", "open")),
        *_q("text", "cards.pattern"),
    ],
    "internet": _q(
        "int",
        *(f"internet.{kind}.{key}" for kind in ("member", "guest", "group") for key in POLICY),
    ),
    "skm": [*_q("bool", "skm.enabled"), *_q("int", "skm.ask_every_days")],
    "screens": [
        *_q("choice", "screens.language", options=("id", "en")),
        *_q("bool", "screens.high_contrast"),
        *_q("float", *(f"screens.timeouts.{key}" for key in TIMEOUTS)),
        *_q("float", "screens.timeouts.warning", "screens.timeouts.same_card"),
    ],
}
# Sections with a question editor: the guestbook's fields, the guests' fields.
EDITORS = {"guestbook": "guestbook.fields", "guests": "guests.fields"}


def dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data[part]
    data[last] = value


def shown(question: Question, value: Any) -> str:
    """A document value as the form shows it."""
    if question.kind == "lines":
        return "\n".join(value)
    if question.kind == "bool":
        return "on" if value else ""
    if question.kind == "float" and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass
class Draft:
    """What the admin typed into one section: the raw values (kept whatever happens), the
    document they make, and the problems as (field id, catalog key, values)."""

    raw: dict[str, str]
    questions: list[dict[str, str]]
    document: dict[str, Any]
    problems: list[tuple[str, str, dict[str, Any]]]
    origin: list[int]  # the editor's question i came from the form's row origin[i]


def _typed(question: Question, raw: str) -> tuple[Any, str]:
    """(value, "") or (None, catalog key of the problem)."""
    text = raw.strip()
    if question.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()], ""
    if question.kind == "bool":
        return bool(text), ""
    if question.kind == "int":
        try:
            return int(text), ""
        except ValueError:
            return None, "settings.error.whole_number"
    if question.kind == "float":
        try:
            return float(text.replace(",", ".")), ""
        except ValueError:
            return None, "settings.error.number"
    return (raw.replace("\r\n", "\n") if question.kind == "long" else text), ""


def question_rows(fields: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The editor's rows for a list of guestbook fields, plus an empty one to add a question."""
    rows = []
    for position, item in enumerate(fields, start=1):
        choices = "\n".join(
            f"{c['key']} | {c['label']['id']} | {c['label']['en']}" for c in item["choices"]
        )
        rows.append(
            {
                "key": item["key"],
                "label_id": item["label"]["id"],
                "label_en": item["label"]["en"],
                "kind": item["kind"],
                "required": "on" if item["required"] else "",
                "choices": choices,
                "position": str(position),
                "remove": "",
            }
        )
    rows.append(dict.fromkeys(rows[0] if rows else ("key", "label_id", "label_en"), ""))
    rows[-1].update(kind="choice", required="on", position=str(len(rows)))
    return rows


def _editor_rows(form: dict[str, str], prefix: str) -> list[dict[str, str]]:
    count = int(form.get(f"{prefix}.count", "0") or 0)
    names = ("key", "label_id", "label_en", "kind", "required", "choices", "position", "remove")
    return [{name: form.get(f"{prefix}.{i}.{name}", "") for name in names} for i in range(count)]


def _read_editor(
    rows: list[dict[str, str]], prefix: str, old: list[dict[str, Any]], draft: Draft
) -> list[dict[str, Any]]:
    """The questions in their new order, without the removed ones and the empty new row."""
    lengths = {item["key"]: item.get("max_length", 80) for item in old}
    kept: list[tuple[float, int, dict[str, Any]]] = []
    for i, row in enumerate(rows):
        if row["remove"] or not (row["key"].strip() or row["label_id"].strip()):
            continue
        choices = []
        for number, line in enumerate(row["choices"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.split("|")]
            if len(parts) != 3 or not all(parts):
                draft.problems.append(
                    (field_id(f"{prefix}.{i}.choices"), "settings.error.choice_line", {"n": number})
                )
                continue
            choices.append({"key": parts[0], "label": {"id": parts[1], "en": parts[2]}})
        try:
            position = float(row["position"] or i + 1)
        except ValueError:
            position = i + 1
            draft.problems.append((field_id(f"{prefix}.{i}.position"), "settings.error.number", {}))
        key = row["key"].strip()
        item = {
            "key": key,
            "label": {"id": row["label_id"].strip(), "en": row["label_en"].strip()},
            "kind": row["kind"] or "choice",
            "required": bool(row["required"]),
            "choices": choices if row["kind"] in ("", "choice") else [],
            "max_length": lengths.get(key, 80),
        }
        kept.append((position, i, item))
    kept.sort(key=lambda entry: (entry[0], entry[1]))
    draft.origin = [i for _, i, _ in kept]
    return [item for _, _, item in kept]


def read_section(section: str, form: dict[str, str], current: dict[str, Any]) -> Draft:
    """The document with this section's answers put in (not yet validated)."""
    document = copy.deepcopy(current)
    draft = Draft({}, [], document, [], [])
    for question in SECTIONS[section]:
        raw = form.get(question.path, "")
        draft.raw[question.path] = raw
        value, problem = _typed(question, raw)
        if problem:
            draft.problems.append((question.id, problem, {}))
        else:
            _put(document, question.path, value)
    prefix = EDITORS.get(section)
    if prefix is not None:
        draft.questions = _editor_rows(form, prefix)
        fields = _read_editor(draft.questions, prefix, dig(current, prefix), draft)
        _put(document, prefix, fields)
    return draft


_EDITOR_PARTS = {"key": "key", "kind": "kind", "choices": "choices", "required": "required"}


def _named_question(message: str, prefix: str, draft: Draft) -> str:
    """For an error about the whole list ("field 'hobi' is a choice with no choices", "keys
    must be unique"): the input of the question it names (else the first question's key)."""
    keys = [row["key"].strip() for row in draft.questions]
    named = re.search(r"field '([^']+)'", message)
    if named and named.group(1) in keys:
        part = "choices" if "no choices" in message else "key"
        return field_id(f"{prefix}.{keys.index(named.group(1))}.{part}")
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key and key in seen:
            return field_id(f"{prefix}.{index}.key")
        seen.add(key)
    return field_id(f"{prefix}.0.key")


def _place(loc: tuple[Any, ...], section: str, draft: Draft, message: str = "") -> str:
    """The id of the input a validation error's location points at."""
    path = ".".join(str(part) for part in loc)
    prefix = EDITORS.get(section)
    if prefix and path.startswith(prefix + ".") and len(loc) > 2 and isinstance(loc[2], int):
        row = draft.origin[loc[2]] if loc[2] < len(draft.origin) else 0
        part = str(loc[3]) if len(loc) > 3 else "key"
        if part == "label":
            part = "label_en" if len(loc) > 4 and loc[4] == "en" else "label_id"
        return field_id(f"{prefix}.{row}.{_EDITOR_PARTS.get(part, part)}")
    if prefix and path == prefix:
        return _named_question(message, prefix, draft)
    questions = sorted(SECTIONS[section], key=lambda q: -len(q.path))
    for question in questions:
        if path == question.path or path.startswith(question.path + "."):
            return question.id
    return "section-" + section


# Pydantic's error types the catalog words; any other shows pydantic's own message.
WORDED = {
    "greater_than": "gt",
    "greater_than_equal": "ge",
    "less_than_equal": "le",
    "less_than": "lt",
    "string_too_long": "max_length",
    "string_pattern_mismatch": "pattern",
    "literal_error": "expected",
    "missing": "",
}


def validate(section: str, draft: Draft) -> SteeredSettings | None:
    """The whole document validated as the file's is; problems go into the draft."""
    try:
        return SteeredSettings.model_validate(draft.document)
    except ValidationError as exc:
        for error in exc.errors():
            place = _place(tuple(error["loc"]), section, draft, error["msg"])
            kind = error["type"]
            if kind in WORDED:
                limit = error.get("ctx", {}).get(WORDED[kind], "")
                if isinstance(limit, float) and limit.is_integer():
                    limit = int(limit)
                values = {"limit": limit}
                draft.problems.append((place, f"settings.error.{kind}", values))
            else:
                detail = error["msg"].removeprefix("Value error, ")
                draft.problems.append((place, "settings.error.invalid", {"detail": detail}))
        return None
