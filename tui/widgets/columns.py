"""Column widths for the dashboard's tables: fixed widths that add up to the table's width.

A ``DataTable`` sizes columns to their content; ours get fixed widths from the space there is,
and every cell is a no-wrap ``Text`` that ends in an ellipsis where it is cut, so nothing is cut
mid-word silently and no table scrolls sideways.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.coordinate import Coordinate
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, CursorType


class FixedColumnsTable(DataTable[Text]):
    """A table whose columns get fixed widths (:func:`set_widths`) and that never scrolls sideways.

    The headline, roster and source tables all are one: no cell padding, a one-cell scrollbar.
    """

    DEFAULT_CSS = """
    FixedColumnsTable {
        overflow-x: hidden;
        scrollbar-gutter: stable;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 0;  /* never scrolls sideways; "stable" would reserve it */
    }
    """

    def __init__(self, *, cursor_type: CursorType = "row", id: str | None = None) -> None:
        super().__init__(cursor_type=cursor_type, cell_padding=0, id=id)


def fit(text: Text) -> Text:
    """Make ``text`` a one-line cell that ends in an ellipsis where it is cut."""
    text.no_wrap = True
    text.overflow = "ellipsis"
    text.end = ""
    return text


def set_widths(table: DataTable[Any], sizes: Mapping[str, int]) -> None:
    """Give the columns of ``table`` these widths (by column key), re-measuring if any changed."""
    changed = False
    for key, size in sizes.items():
        column = table.columns[ColumnKey(key)]
        if column.width != size or column.auto_width:
            column.width, column.auto_width = size, False
            changed = True
    if not changed:
        return
    # The public ways to have the table drop what it rendered and measure itself again: a
    # style update clears its caches, and a cell update asking for widths recomputes its size.
    table.notify_style_update()
    if table.row_count:
        row = table.coordinate_to_cell_key(Coordinate(0, 0)).row_key
        key = next(iter(sizes))
        table.update_cell(row, key, table.get_cell(row, key), update_width=True)
