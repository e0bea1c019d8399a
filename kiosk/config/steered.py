"""What the console steers on every kiosk: config.toml's shared sections, validated the same way."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kiosk.config import (
    CardSettings,
    ConfigError,
    GuestbookSettings,
    LibrarySettings,
    Settings,
    SkmSettings,
    Timeouts,
    merge_sections,
    parse_settings,
)
from kiosk.config.guests import GuestSettings
from kiosk.config.internet import InternetSettings

# Bumped when a key is added that an older kiosk would not know: a kiosk keeps its last good
# copy when the backend sends a document of a newer schema than its own.
SCHEMA = 1


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScreenSettings(_Section):
    """How the kiosk's screens behave: the first language, contrast, and their timeouts."""

    language: Literal["id", "en"] = "id"
    high_contrast: bool = False
    timeouts: Timeouts = Field(default_factory=Timeouts)


class SteeredMembers(_Section):
    """Of [members], only what a kiosk needs: may a patron type a number, and how is it checked."""

    typed_entry: Literal["verify", "guestbook-only", "open"] = "verify"


class SteeredSettings(_Section):
    """The settings document the backend keeps (versioned) and every kiosk runs with."""

    schema_version: int = Field(SCHEMA, ge=1)
    library: LibrarySettings = Field(default_factory=LibrarySettings)
    cards: CardSettings = Field(default_factory=CardSettings)
    guestbook: GuestbookSettings = Field(default_factory=GuestbookSettings)
    guests: GuestSettings = Field(default_factory=GuestSettings)
    members: SteeredMembers = Field(default_factory=SteeredMembers)
    internet: InternetSettings = Field(default_factory=InternetSettings)
    skm: SkmSettings = Field(default_factory=SkmSettings)
    screens: ScreenSettings = Field(default_factory=ScreenSettings)


def steered_from(settings: Settings) -> SteeredSettings:
    """The steered document a config.toml gives: the backend's first version."""
    return SteeredSettings(
        library=settings.library,
        cards=settings.cards,
        guestbook=settings.guestbook,
        guests=settings.guests,
        members=SteeredMembers(typed_entry=settings.members.typed_entry),
        internet=settings.internet,
        skm=settings.skm,
        screens=ScreenSettings(language=settings.kiosk.language, timeouts=settings.kiosk.timeouts),
    )


def parse_steered(data: Any, source: str = "settings") -> SteeredSettings:
    """A steered document from JSON data, or ConfigError saying what was expected."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected an object, got {type(data).__name__}")
    schema = data.get("schema_version", SCHEMA)
    if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
        raise ConfigError(
            f"{source}: schema_version {schema} is newer than this kiosk's {SCHEMA}: "
            "update the kiosk's software"
        )
    try:
        return SteeredSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None


def with_steered(settings: Settings, steered: SteeredSettings) -> Settings:
    """The file's settings with the steered sections put in; the machine's own keys (camera,
    data_dir, fullscreen, sound, backend address) stay as the file says."""
    data = settings.model_dump()
    document = steered.model_dump()
    screens = document.pop("screens")
    document.pop("schema_version")
    members = document.pop("members")
    for section, values in document.items():
        data[section] = values
    data["members"] = merge_sections(data["members"], members)
    data["kiosk"] = merge_sections(
        data["kiosk"], {"language": screens["language"], "timeouts": screens["timeouts"]}
    )
    return parse_settings(data, "settings from the backend")
