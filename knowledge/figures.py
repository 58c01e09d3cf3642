"""One logged figure, as the store returns it: the one shape every caller reads, instead of a dict by key."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class FigureRecord:
    """A row of the append-only ``figures`` log. ``value`` is in the metric's unit (a cumulative metric's
    addition, a level's new figure); ``status`` is a status metric's value; undone rows stay in the log."""

    id: int
    metric: str
    value: float | None
    status: str | None
    unit: str | None
    village: str | None
    raw: str | None
    user_id: int
    user_name: str | None
    created_at: float
    undone_at: float | None = None
    undone_by: int | None = None
    request: str | None = None
    as_of: str | None = None  # the day the figure is for, when it was given (an imported row's "Ngày")
    fingerprint: str | None = None  # an imported row's content hash (knowledge/imports.py): never written twice

    @classmethod
    def from_row(cls, names: Sequence[str], row: Sequence[object]) -> FigureRecord:
        """From a ``SELECT * FROM figures`` row and its column names (columns it does not know are left out)."""
        if tuple(names) == _ORDER:  # the table's own column order: the common, fast case
            return cls(*row)  # type: ignore[arg-type]
        return cls(**{n: v for n, v in zip(names, row) if n in _FIELDS})  # type: ignore[arg-type]

    @property
    def live(self) -> bool:
        """Not undone."""
        return self.undone_at is None

    def as_dict(self) -> dict[str, object]:
        """For a table writer (the CSV and XLSX exports), by column name."""
        return asdict(self)


_ORDER = tuple(f.name for f in fields(FigureRecord))  # read once: from_row runs for every row of a query
_FIELDS = frozenset(_ORDER)
