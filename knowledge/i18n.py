"""User-facing strings from ``locales/<lang>.yaml``; Vietnamese is the default and the fallback."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LANG = "vi"
LANGS = ("vi", "en")


@lru_cache(maxsize=8)
def _strings(lang: str) -> dict[str, str]:
    path = LOCALES_DIR / f"{lang}.yaml"
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def t(key: str, lang: str = DEFAULT_LANG, **values: object) -> str:
    """The string ``key`` in ``lang`` (falling back to Vietnamese), with ``{placeholders}`` filled."""
    lang = lang if lang in LANGS else DEFAULT_LANG
    template = _strings(lang).get(key)
    if template is None:
        template = _strings(DEFAULT_LANG)[key]
    return str(template).format(**values) if values else str(template)


def keys(lang: str) -> set[str]:
    return set(_strings(lang))
