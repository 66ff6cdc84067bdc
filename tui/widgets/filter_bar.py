"""The keyword filter: ``/`` focuses it, the headlines narrow as you type, Esc clears it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from tui.widgets.columns import fit


class FilterBar(Horizontal):
    """A one-line keyword input, with what the pane shows written beside it."""

    DEFAULT_CSS = """
    FilterBar {
        height: 1;
        width: 1fr;
    }
    FilterBar > #filter-prompt {
        width: 2;
        color: $accent;
        text-style: bold;
    }
    FilterBar > Input {
        width: 1fr;
    }
    FilterBar > #filter-state {
        width: auto;
        max-width: 60%;
        padding: 0 1;
        color: $text-muted;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "clear", "Clear filter", show=False),
    ]

    class Changed(Message):
        """The keyword changed (``""``: no filter)."""

        def __init__(self, value: str) -> None:
            super().__init__()
            self.value = value

    class Done(Message):
        """The user is done typing (Enter or Esc): focus goes back to the headlines."""

    def compose(self) -> ComposeResult:
        yield Static("/", id="filter-prompt")
        yield Input(placeholder="filter headlines by keyword", compact=True, id="filter-input")
        yield Static(id="filter-state")

    @property
    def value(self) -> str:
        return self.query_one(Input).value

    def focus_input(self) -> None:
        """Focus the input now: keys already on their way go to it (``focus()`` would wait)."""
        self.screen.set_focus(self.query_one(Input))

    def clear(self) -> None:
        """Empty the filter (posts ``Changed("")`` if it held anything)."""
        self.query_one(Input).value = ""

    def show_state(self, text: Text) -> None:
        """Say what the pane shows (mode, person, count)."""
        self.query_one("#filter-state", Static).update(fit(text))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(self.Changed(event.value.strip()))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Done())

    def action_clear(self) -> None:
        self.clear()
        self.post_message(self.Done())
