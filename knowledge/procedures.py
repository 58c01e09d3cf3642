"""Procedure cards (``data/procedures.yaml``): papers, where, time, fee and legal basis of the commune-level
procedures villagers ask about, which the plan document never states.

The shared file serves every commune; a commune's folder may hold its own ``procedures.yaml``. A card there
whose id is already known overrides only the fields it gives (its office in ``where``, its province's fee)
and keeps the rest; a card with a new id is added and must be complete. A malformed file is refused with
a :class:`ProcedureFileError` that names the file, the card and the field: a card that answers "what
papers do I need" with half its fields missing would be worse than no card.

Rendering a card for a chat needs labels ("Giấy tờ cần có", "Nộp ở đâu") that belong in ``locales/``, so it
is left to the caller; this module only loads, validates and finds cards.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .text import fold

SHARED_PATH = Path(__file__).resolve().parent.parent / "data" / "procedures.yaml"

_ID = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
_SLUG = re.compile(r"^[a-z0-9]+$")
_TEXT_FIELDS = ("title", "purpose", "where")
_OPTIONAL_TEXT_FIELDS = ("topic", "online", "time", "fee")
_LIST_FIELDS = ("aliases", "papers", "legal_basis")
_OPTIONAL_LIST_FIELDS = ("changes",)
_KNOWN = frozenset({"id", "slug", "source", "checked", "english"}).union(
    _TEXT_FIELDS, _OPTIONAL_TEXT_FIELDS, _LIST_FIELDS, _OPTIONAL_LIST_FIELDS
)
# What a card must have once a commune's fields are merged over the shared ones.
REQUIRED = ("id", "title", "aliases", "purpose", "papers", "where", "legal_basis", "source", "checked", "english")


class ProcedureFileError(ValueError):
    """A procedures file that cannot be read as cards; the message says where and what to fix."""


@dataclass(frozen=True)
class Source:
    """A public document the card was written from."""

    name: str
    url: str


@dataclass(frozen=True)
class EnglishSummary:
    """The card in one line of English, for users who chose English, and how English speakers name it."""

    title: str
    summary: str
    aliases: tuple[str, ...] = ()  # "register a birth", "birth certificate": found in an English question


@dataclass(frozen=True)
class ProcedureCard:
    """One administrative procedure, as a villager needs it: what it is for, what to bring, where to go."""

    id: str
    slug: str
    title: str
    aliases: tuple[str, ...]
    purpose: str
    papers: tuple[str, ...]
    where: str
    legal_basis: tuple[str, ...]
    source: tuple[Source, ...]
    checked: dt.date
    english: EnglishSummary
    topic: str | None = None
    online: str | None = None
    time: str | None = None
    fee: str | None = None
    changes: tuple[str, ...] = ()
    origin: Path | None = None  # the file the card (or its last override) came from

    @property
    def deep_link(self) -> str:
        """The ``/start`` payload that opens this card (``thutuc_khaisinh``), for QR codes."""
        return f"thutuc_{self.slug}"

    def match_keys(self) -> frozenset[str]:
        """Folded names the card is known by (title, aliases, English title and aliases): exact-lookup keys."""
        names = (self.title, *self.aliases, self.english.title, *self.english.aliases)
        return frozenset(key for key in map(fold, names) if key)


def load_procedures(shared_path: Path = SHARED_PATH, commune_path: Path | None = None) -> list[ProcedureCard]:
    """The shared cards, with a commune's own file (if given and present) merged over them by id.

    The shared file must exist; a commune file that does not exist is simply no override (most communes
    have none). Order: the shared cards as written, then the commune's new cards as written.
    """
    shared = _read_entries(shared_path, must_exist=True)
    merged: dict[str, tuple[dict[str, Any], Path]] = {card_id: (entry, shared_path) for card_id, entry in shared}
    if commune_path is not None:
        for card_id, entry in _read_entries(commune_path, must_exist=False):
            base = merged.get(card_id, ({}, commune_path))[0]
            merged[card_id] = ({**base, **entry}, commune_path)
    cards = [_card(entry, origin) for entry, origin in merged.values()]
    _check_unique_slugs(cards)
    return cards


def find_card(cards: Iterable[ProcedureCard], name: str) -> ProcedureCard | None:
    """The card whose id, slug, title or alias is ``name`` (any case, with or without diacritics)."""
    key = fold(name)
    compact = key.replace(" ", "_")
    for card in cards:
        if compact in (card.id, card.slug) or key in card.match_keys():
            return card
    return None


def by_deep_link(cards: Iterable[ProcedureCard], payload: str) -> ProcedureCard | None:
    """The card a ``/start thutuc_<slug>`` payload names, or None for any other payload."""
    if not payload.startswith("thutuc_"):
        return None
    slug = payload.removeprefix("thutuc_")
    return next((card for card in cards if card.slug == slug), None)


# ---------------------------------------------------------------- reading and validating


def _read_entries(path: Path, must_exist: bool) -> list[tuple[str, dict[str, Any]]]:
    """The raw entries of one file, keyed by id; duplicate ids and non-mapping entries are errors."""
    if not path.exists():
        if must_exist:
            raise ProcedureFileError(f"{path}: the procedures file is missing")
        return []
    try:
        with path.open(encoding="utf-8") as fh:
            raw = yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ProcedureFileError(f"{path}: not valid YAML: {exc}") from exc
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ProcedureFileError(f"{path}: expected a list of cards at the top level, found {type(raw).__name__}")
    entries: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw, start=1):
        where = f"{path}: card #{index}"
        if not isinstance(item, dict):
            raise ProcedureFileError(f"{where}: expected a mapping of fields, found {type(item).__name__}")
        card_id = item.get("id")
        if not isinstance(card_id, str) or not _ID.match(card_id):
            raise ProcedureFileError(f"{where}: 'id' must be an ascii slug like 'khai_sinh', found {card_id!r}")
        if card_id in seen:
            raise ProcedureFileError(f"{path}: card {card_id!r} appears twice")
        seen.add(card_id)
        unknown = sorted(set(item) - _KNOWN)
        if unknown:
            raise ProcedureFileError(f"{path}: card {card_id!r}: unknown field(s) {', '.join(unknown)}")
        entries.append((card_id, {**item, "_where": f"{path}: card {card_id!r}"}))
    return entries


def _card(entry: Mapping[str, Any], origin: Path) -> ProcedureCard:
    where = str(entry.get("_where", origin))
    missing = [name for name in REQUIRED if _absent(entry.get(name))]
    if missing:
        raise ProcedureFileError(f"{where}: missing required field(s) {', '.join(missing)}")
    card_id = entry["id"]
    slug = entry.get("slug", card_id.replace("_", ""))
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise ProcedureFileError(f"{where}: 'slug' must be lower-case letters and digits only, found {slug!r}")
    return ProcedureCard(
        id=card_id,
        slug=slug,
        title=_text(entry, "title", where),
        aliases=_texts(entry, "aliases", where),
        purpose=_text(entry, "purpose", where),
        papers=_texts(entry, "papers", where),
        where=_text(entry, "where", where),
        legal_basis=_texts(entry, "legal_basis", where),
        source=_sources(entry["source"], where),
        checked=_date(entry["checked"], where),
        english=_english(entry["english"], where),
        topic=_optional_text(entry, "topic", where),
        online=_optional_text(entry, "online", where),
        time=_optional_text(entry, "time", where),
        fee=_optional_text(entry, "fee", where),
        changes=_texts(entry, "changes", where) if not _absent(entry.get("changes")) else (),
        origin=origin,
    )


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _clean(value: str) -> str:
    return " ".join(value.split())


def _text(entry: Mapping[str, Any], name: str, where: str) -> str:
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ProcedureFileError(f"{where}: {name!r} must be non-empty text, found {value!r}")
    return _clean(value)


def _optional_text(entry: Mapping[str, Any], name: str, where: str) -> str | None:
    return None if _absent(entry.get(name)) else _text(entry, name, where)


def _texts(entry: Mapping[str, Any], name: str, where: str) -> tuple[str, ...]:
    value = entry.get(name)
    if not isinstance(value, list) or not value:
        raise ProcedureFileError(f"{where}: {name!r} must be a non-empty list of text, found {value!r}")
    out: list[str] = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, str) or not item.strip():
            # a "key: value" line left unquoted arrives as a mapping: say so, it is the usual slip
            hint = " (quote it, or avoid ': ' inside the line)" if isinstance(item, dict) else ""
            raise ProcedureFileError(f"{where}: {name!r} item {position} must be text, found {item!r}{hint}")
        out.append(_clean(item))
    return tuple(out)


def _sources(value: Any, where: str) -> tuple[Source, ...]:
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not items:
        raise ProcedureFileError(f"{where}: 'source' must be a list of {{name, url}}, found {value!r}")
    out: list[Source] = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict) or set(item) != {"name", "url"}:
            raise ProcedureFileError(f"{where}: 'source' item {position} must have exactly 'name' and 'url'")
        name, url = item["name"], item["url"]
        if not isinstance(name, str) or not name.strip():
            raise ProcedureFileError(f"{where}: 'source' item {position} has no name")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ProcedureFileError(f"{where}: 'source' item {position} url must start with http(s)://")
        out.append(Source(name=_clean(name), url=url.strip()))
    return tuple(out)


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ProcedureFileError(f"{where}: 'checked' must be a date YYYY-MM-DD, found {value!r}")


def _english(value: Any, where: str) -> EnglishSummary:
    if not isinstance(value, dict) or not {"title", "summary"} <= set(value) <= {"title", "summary", "aliases"}:
        raise ProcedureFileError(f"{where}: 'english' must have 'title' and 'summary' (and may have 'aliases')")
    aliases = _texts(value, "aliases", where) if "aliases" in value else ()
    return EnglishSummary(title=_text(value, "title", where), summary=_text(value, "summary", where),
                          aliases=aliases)


def _check_unique_slugs(cards: list[ProcedureCard]) -> None:
    seen: dict[str, ProcedureCard] = {}
    for card in cards:
        other = seen.get(card.slug)
        if other is not None:
            files = " and ".join(dict.fromkeys(str(c.origin) for c in (other, card)))
            raise ProcedureFileError(f"{files}: cards {other.id!r} and {card.id!r} share the slug {card.slug!r}")
        seen[card.slug] = card
