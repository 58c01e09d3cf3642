"""What the logs hold (issue 13 item 13): by default the running bot logs at INFO, one line per update with a
keyed hash of the user; the libraries stay at WARNING even when our level is DEBUG (PTB's DEBUG lines hold
whole updates: raw ids, names and texts), unless LOG_LEVEL_LIBRARIES asks; httpx never logs its URLs."""

from __future__ import annotations

import logging

import pytest

import bot
from handlers.common import user_hash

from . import test_officials
from .chat import texts
from .test_officials import CITIZEN

kb, desk = test_officials.kb, test_officials.desk  # the same fixtures
LOGGERS = ("", "troly", *bot.LIBRARY_LOGGERS)


@pytest.fixture
def levels():
    """configure_logging changes process-wide levels: put them back."""
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_the_bot_logs_at_info_by_default_and_the_libraries_at_warning(levels):
    bot.configure_logging({})
    assert logging.getLogger().level == logging.INFO
    assert logging.getLogger("troly.updates").isEnabledFor(logging.INFO)
    for name in ("telegram", "telegram.ext.Application", "httpx", "apscheduler"):
        assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name


def test_debug_for_us_keeps_the_libraries_quiet_unless_asked(levels):
    bot.configure_logging({"LOG_LEVEL": "debug"})
    assert logging.getLogger().level == logging.DEBUG
    assert logging.getLogger("telegram.ext").getEffectiveLevel() == logging.WARNING
    bot.configure_logging({"LOG_LEVEL": "DEBUG", "LOG_LEVEL_LIBRARIES": "DEBUG"})
    assert logging.getLogger("telegram.ext").getEffectiveLevel() == logging.DEBUG
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING  # its URLs hold the token


def test_a_misspelt_level_falls_back(levels):
    bot.configure_logging({"LOG_LEVEL": "LOUD"})
    assert logging.getLogger().level == logging.INFO


async def test_one_keyed_line_per_update_and_no_raw_ids_names_or_texts_at_debug(desk, levels, caplog):
    bot.configure_logging({"LOG_LEVEL": "DEBUG"})
    caplog.set_level(logging.DEBUG, logger="troly")
    question = "Số hộ nghèo năm 2023 là bao nhiêu?"
    assert texts(await desk.say(question, CITIZEN, first_name="Lò Văn Riêng"))
    lines = [r.getMessage() for r in caplog.records if r.name == "troly.updates"]
    assert len(lines) == 1 and lines[0].startswith(f"user={user_hash(CITIZEN)} question source=")
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert str(CITIZEN) not in everything and "Lò Văn Riêng" not in everything and question not in everything
