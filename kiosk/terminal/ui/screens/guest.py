"""The guest form for a non-member or a group's leader: name and institution on the name
keyboard, then the [guests] fields as chips and, when the policy allows, the internet switch."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.terminal.session.guest_entry import fields_for
from kiosk.terminal.ui.screens.guestbook import FieldRow, PatronForm
from kiosk.terminal.ui.widgets.chips import ChoiceChips
from kiosk.terminal.ui.widgets.name_keyboard import NameKeyboard  # noqa: F401  (used in the .kv)
from kiosk.terminal.ui.widgets.stepper import CountStepper
from kiosk.terminal.ui.widgets.still_there import TimeoutWatch


def group_gender_keys(app: Any) -> list[str]:
    """The gender choices a group counts its people by ([guests] group_gender_counts), or []."""
    settings = app.settings.guests
    gender = next((f for f in settings.fields if f.key == "gender"), None)
    return [c.key for c in gender.choices] if gender and settings.group_gender_counts else []


class NameBox(BoxLayout):
    """A typed text (name or institution) as a box: tap it and the keyboard types there."""

    which = StringProperty("name")
    label = StringProperty("")
    value = StringProperty("")
    editing = BooleanProperty(False)


class GuestWho(BoxLayout):
    """Page 1: alone or a group, who (name, institution), and the keyboard."""

    screen = ObjectProperty(None, allownone=True)


class GuestAnswers(BoxLayout):
    """Page 2: the group's size, the guest fields, the internet switch, the data notice."""

    screen = ObjectProperty(None, allownone=True)


class GuestScreen(PatronForm):
    page = StringProperty("who")  # "who", then "answers"
    group = BooleanProperty(False)
    # Labels of what "Lanjut" (page 1) or "Kirim" (page 2) still waits for.
    missing = ListProperty([])
    who_done = BooleanProperty(False)
    can_send = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.who = GuestWho(screen=self)
        self.answers = GuestAnswers(screen=self)
        self._built_for: tuple[int, str, float] | None = None
        self._built_group = False  # the answers page was drawn for a group
        self._rows: dict[str, FieldRow] = {}
        self.steppers: dict[str, CountStepper] = {}
        self.total: Any = None  # a group's total when counted by gender
        self.still_there = TimeoutWatch(lambda app: app.settings.kiosk.timeouts.guestbook)
        self.bind(page=self._place_page)

    def fields(self) -> list[Any]:
        app = App.get_running_app()
        return fields_for(app.settings.guests.fields, self.group)

    def show(self, view) -> None:
        super().show(view)
        entry = view.guest
        if entry is None:
            return
        app = App.get_running_app()
        if self._built_for is None or self._built_for[0] != view.journey:
            self.page = "who"
            self._place_page()
        self.group = entry.group
        if (
            self._built_for != (view.journey, app.language, app.t)
            or self._built_group != entry.group
        ):
            self._build(app, entry)
            self._built_for, self._built_group = (view.journey, app.language, app.t), entry.group
        self._update(app, view, entry)

    def _update(self, app: Any, view: Any, entry: Any) -> None:
        who = self.who.ids
        who.name_box.value, who.name_box.editing = entry.name, entry.editing == "name"
        who.institution_box.value = entry.institution
        who.institution_box.editing = entry.editing == "institution"
        who.keyboard.shift = entry.shift
        who.keyboard.caps = entry.caps
        who.size_box.value = str(entry.group_size) if entry.group_size else ""
        who.size_box.editing = entry.editing == "group_size"
        for key, row in self._rows.items():
            row.value = entry.answers.get(key, "")
            chips = row.ids.get("chips")
            if chips is not None:
                chips.selected = row.value
        for key, stepper in self.steppers.items():
            stepper.count = entry.group_size if key == "" else entry.gender_counts.get(key, 0)
        if entry.gender_counts and self.total is not None:
            self.total.text = app.tr("guest.total", app.language, count=entry.group_size)
        gaps = app.flow.guest_missing()
        self.can_send = app.flow.guest_can_send()
        labels = {f.key: f.label.get(app.language) for f in self.fields()}
        labels |= {
            "name": app.tr("guest.leader" if entry.group else "guest.name", app.language),
            "institution": app.tr("guest.institution", app.language),
            "group_size": app.tr("guest.people", app.language),
        }
        # A group's size is typed on page 1, unless it is counted per gender (page 2).
        page_one = ("name", "institution") + (() if entry.gender_counts else ("group_size",))
        self.who_done = not (set(page_one) & set(gaps))
        self.missing = [labels[g] for g in gaps if self.page == "answers" or g in page_one]

    def _build(self, app: Any, entry: Any) -> None:
        box = self.answers.ids.fields
        box.clear_widgets()
        self._rows, self.steppers = {}, {}
        self.total = None
        language, u = app.language, app.u
        unit = app.tr("guest.people_unit", language)
        if entry.gender_counts:
            gender = next((f for f in app.settings.guests.fields if f.key == "gender"), None)
            for key in entry.gender_counts:
                choice = next((c for c in gender.choices if c.key == key), None) if gender else None
                label = choice.label.get(language) if choice else app.tr("guest.people", language)
                row = FieldRow(key=key or "group_size", kind="count", label=label)
                stepper = CountStepper(
                    size_hint_y=None,
                    height=app.touch * 1.1,
                    spacing=10 * u,
                    font_px=40 * app.t,
                    unit=unit,
                    minimum=0,
                    maximum=app.settings.guests.max_group_size,
                )
                stepper.bind(on_new_count=lambda _s, n, k=key: self._count(app, k, n))
                row.ids.holder.add_widget(stepper)
                self.steppers[key] = stepper
                box.add_widget(row)
            self.total = Factory.KLabel(font_px=34, bold=True, halign="right")
            box.add_widget(self.total)
        for field in self.fields():
            label = field.label.get(language)
            if not field.required:
                label += "  " + app.tr("guestbook.optional", language)
            row = FieldRow(key=field.key, kind=field.kind, label=label)
            if field.kind == "choice":
                chips = ChoiceChips(
                    choices=[(c.key, c.label.get(language)) for c in field.choices],
                    font_px=30 * app.t,
                    chip_height=app.touch * 0.9,
                )
                chips.bind(
                    on_choose=lambda _w, v, k=field.key: app.act(app.flow.guest_answer, k, v)
                )
                row.ids.holder.add_widget(chips)
                row.ids["chips"] = chips
            else:
                typed = Factory.TypeBox()
                typed.bind(on_release=lambda _w, f=field: self._open_entry(app, f))
                row.ids.holder.add_widget(typed)
            self._rows[field.key] = row
            box.add_widget(row)

    def _count(self, app: Any, key: str, count: int) -> None:
        if key:
            app.act(app.flow.guest_gender_count, key, count)
        else:
            app.act(app.flow.guest_group_size, count)

    def _open_entry(self, app: Any, field: Any) -> None:
        from kiosk.terminal.ui.screens.guestbook import TextEntry

        app.act(app.flow.touch)
        entry = self.view.guest if self.view else None
        self.entry_popup = TextEntry(
            key=field.key,
            kind=field.kind,
            title=field.label.get(app.language),
            text=entry.answers.get(field.key, "") if entry else "",
            max_length=field.max_length,
        )
        self.entry_popup.open()

    def _place_page(self, *_args: Any) -> None:
        holder = self.ids.page
        holder.clear_widgets()
        holder.add_widget(self.who if self.page == "who" else self.answers)

    def set_group(self, group: bool) -> None:
        """The "Sendiri / Rombongan" switch on page 1."""
        app = App.get_running_app()
        app.act(app.flow.guest_set_group, group, group_gender_keys(app) if group else [])

    def key(self, key: str) -> None:
        """A key of the name keyboard; "next" goes name -> institution -> (a group's size) ->
        page 2, as far as what is typed allows."""
        app = App.get_running_app()
        entry = self.view.guest if self.view else None
        if key != "next" or entry is None:
            app.act(app.flow.guest_press, key)
            return
        order = ["name", "institution"] + (
            ["group_size"] if self.group and not entry.gender_counts else []
        )
        after = order[order.index(entry.editing) + 1 :] if entry.editing in order else []
        if after:
            app.act(app.flow.guest_edit, after[0])
        elif self.who_done:
            self.go("answers")

    def go(self, page: str) -> None:
        """Lanjut / Kembali between the two pages (the flow stays in State.guest)."""
        app = App.get_running_app()
        self.page = page
        app.act(app.flow.touch)
