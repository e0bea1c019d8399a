"""The guestbook (buku tamu): greeting, the configured fields as chips, the internet switch,
the personal-data notice."""

from __future__ import annotations

from kivy.app import App
from kivy.clock import Clock
from kivy.factory import Factory
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.modalview import ModalView

from kiosk.terminal.ui.screens import KioskScreen
from kiosk.terminal.ui.widgets.chips import ChoiceChips
from kiosk.terminal.ui.widgets.keypads import NumberPad, TextKeyboard  # noqa: F401  (used in the .kv)
from kiosk.terminal.ui.widgets.still_there import TimeoutWatch


class FieldRow(BoxLayout):
    """One guestbook field: its label and its chips (or a tap-to-type box)."""

    key = StringProperty("")
    kind = StringProperty("choice")
    label = StringProperty("")
    value = StringProperty("")
    font_px = NumericProperty(28)


class TextEntry(ModalView):
    """The on-screen keyboard for a text or number field."""

    key = StringProperty("")
    kind = StringProperty("text")
    title = StringProperty("")
    text = StringProperty("")
    max_length = NumericProperty(80)

    def press(self, key: str) -> None:
        app = App.get_running_app()
        if key == "done":
            # The same popup types a text field of the guest form.
            guest = app.flow.state.value == "guest"
            app.act(
                app.flow.guest_answer if guest else app.flow.answer, self.key, self.text.strip()
            )
            self.dismiss()
            return
        if key == "back":
            self.text = self.text[:-1]
        elif len(self.text) < self.max_length:
            self.text += " " if key == "space" else key
        app.act(app.flow.touch)


class PrivacyNotice(ModalView):
    pass


class PatronForm(KioskScreen):
    """What the member's guestbook and the visitor's form share: the privacy notice, the
    "still there?" watch, and no popup left over when the patron's screen goes."""

    still_there: TimeoutWatch
    _built_for: tuple[int, str, float] | None = None  # (journey, language, type scale) drawn for

    def open_privacy(self) -> None:
        app = App.get_running_app()
        app.act(app.flow.touch)
        self.privacy_popup = PrivacyNotice()
        self.privacy_popup.open()

    def on_enter(self, *args) -> None:
        self.still_there.start()

    def on_leave(self, *args) -> None:
        self.still_there.stop()
        # Nothing of this patron stays on a popup after the screen is gone.
        for name in ("entry_popup", "privacy_popup"):
            popup = getattr(self, name, None)
            if popup is not None:
                popup.dismiss(animation=False)
                setattr(self, name, None)
        self._built_for = None


class GuestbookScreen(PatronForm):
    # The member's last answers were preselected when the guestbook opened (not: the
    # patron has tapped something), so "your previous answers are selected" is true.
    prefilled = BooleanProperty(False)
    # Labels of the required fields still unanswered: what "Kirim" is waiting for.
    missing = ListProperty([])
    want_internet = BooleanProperty(False)  # the internet panel's state, as it reads
    # The purpose chip "Internet" is chosen while internet is off: the panel says how to get it.
    purpose_internet = BooleanProperty(False)
    # Enlarged text on a screen too short for every field: the fields in pages, "Lanjut"
    # between them, so nothing is cut and nothing hides behind a scroll.
    page = NumericProperty(0)
    pages = NumericProperty(1)

    def __init__(self, fields, **kwargs):
        super().__init__(**kwargs)
        self.fields = fields
        self._built_for: tuple[int, str, float] | None = None
        self._opened_for = -1
        self._rows: dict[str, FieldRow] = {}
        self._page_keys: list[list[str]] = []
        self._last_heights: list[float] = []
        self.still_there = TimeoutWatch(lambda app: app.settings.kiosk.timeouts.guestbook)
        self._measure = Clock.create_trigger(self._paginate, 0.05)
        self.bind(size=lambda *_: self._show_all_then_measure())

    def show(self, view) -> None:
        super().show(view)
        app = App.get_running_app()
        if self._opened_for != view.journey:
            self._opened_for = view.journey
            self.prefilled = bool(view.answers) and not view.offline
        if self._built_for != (view.journey, app.language, app.t):
            self._build(app)
            self._built_for = (view.journey, app.language, app.t)
            self._show_all_then_measure()
        self.missing = [
            f.label.get(app.language)
            for f in self.fields
            if f.required and not view.answers.get(f.key)
        ]
        self.want_internet = bool(view.internet_allowed and view.want_internet)
        self.purpose_internet = "internet" in view.answers.values()
        for key, row in self._rows.items():
            row.value = view.answers.get(key, "")
            chips = row.ids.get("chips")
            if chips is not None:
                chips.selected = row.value

    def _build(self, app) -> None:
        box = self.ids.fields
        box.clear_widgets()
        self._rows = {}
        language = app.language
        for field in self.fields:
            label = field.label.get(language)
            if not field.required:
                label += "  " + app.tr("guestbook.optional", language)
            row = FieldRow(key=field.key, kind=field.kind, label=label)
            if field.kind == "choice":
                chips = ChoiceChips(
                    choices=[(c.key, c.label.get(language)) for c in field.choices],
                    font_px=30 * app.t,  # answers larger than body text
                    chip_height=app.touch * 0.9,
                )
                chips.bind(
                    on_choose=lambda _w, value, k=field.key: app.act(app.flow.answer, k, value)
                )
                row.ids.holder.add_widget(chips)
                row.ids["chips"] = chips
            else:
                entry = Factory.TypeBox()
                entry.bind(on_release=lambda _w, f=field: self.open_entry(f))
                row.ids.holder.add_widget(entry)
                row.ids["entry"] = entry
            self._rows[field.key] = row

    def _show_all_then_measure(self) -> None:
        """Every row in the box (so each takes its real height), then split into pages."""
        box = self.ids.fields
        box.clear_widgets()
        for row in self._rows.values():
            box.add_widget(row)
        self.page, self.pages, self._page_keys = 0, 1, [list(self._rows)]
        self._last_heights = []
        self._measure()

    def _paginate(self, *_args) -> None:
        box = self.ids.fields.__self__  # the widget, not the kv id's weak proxy (for `is`)
        outer = box.parent
        if outer is None or not self._rows:
            return
        # Measure only once the layout has settled: every row as wide as the box and the
        # same heights twice running (chips wrap a frame after their row gets its width).
        others = [c for c in outer.children if c is not box and type(c).__name__ != "Widget"]
        heights = [w.height for w in (*self._rows.values(), *others)] + [outer.height]
        settled = all(abs(row.width - box.width) < 1 for row in self._rows.values())
        if not settled or heights != self._last_heights:
            self._last_heights = heights
            self._measure()
            return
        room = outer.height - outer.padding[1] - outer.padding[3]
        room -= sum(c.height for c in others) + outer.spacing * (len(outer.children) - 1)
        # What only the last page shows (with Kirim) leaves its room to the other pages.
        last_only = [self.ids[name] for name in ("internet_panel", "privacy_row", "missing_row")]
        freed = sum(w.height for w in last_only)  # (their spacing stays)
        self._page_keys = self._split(room, room + freed, box.spacing)
        self.pages = len(self._page_keys)
        self.turn(min(self.page, self.pages - 1), by_patron=False)

    def _split(self, last_room: float, room: float, gap: float) -> list[list[str]]:
        """The fields in pages: as many as fit in `room` on each, the last page (the one with
        Kirim and what only it shows) within `last_room`."""

        def height(keys: list[str]) -> float:
            return sum(self._rows[k].height for k in keys) + gap * max(len(keys) - 1, 0)

        pages: list[list[str]] = [[]]
        for key in self._rows:
            if pages[-1] and height([*pages[-1], key]) > room:
                pages.append([])
            pages[-1].append(key)
        if height(pages[-1]) > last_room and len(pages[-1]) > 1:
            # Too full for what the last page also shows: its last field goes on a page of its
            # own (the earlier pages stay full; one field alone fits, or nothing would).
            pages.append([pages[-1].pop()])
        return pages

    def turn(self, page: int, by_patron: bool = True) -> None:
        """Show page `page` of the fields (Lanjut / Kembali when there are several)."""
        self.page = page
        box = self.ids.fields
        box.clear_widgets()
        for key in self._page_keys[page] if self._page_keys else self._rows:
            box.add_widget(self._rows[key])
        app = App.get_running_app()
        if by_patron and app is not None:
            app.act(app.flow.touch)

    def open_entry(self, field) -> None:
        app = App.get_running_app()
        app.act(app.flow.touch)
        popup = TextEntry(
            key=field.key,
            kind=field.kind,
            title=field.label.get(app.language),
            text=self.view.answers.get(field.key, "") if self.view else "",
            max_length=field.max_length,
        )
        popup.open()
        self.entry_popup = popup
