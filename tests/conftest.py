"""Shared fixtures: the real plan (path and parsed), and a deterministic Hypothesis profile."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so `pytest` works as well as `python -m pytest`
    sys.path.insert(0, str(ROOT))

PLAN = ROOT / "data" / "ke-hoach-ptktxh-2024-xa-cao-lau.txt"

# Deterministic property tests: the same examples every run, no example database, no timing flakiness.
settings.register_profile("troly", derandomize=True, database=None, deadline=None, max_examples=150)
settings.load_profile("troly")


@pytest.fixture(scope="session")
def plan_path() -> Path:
    return PLAN


@pytest.fixture(scope="module")
def kb(tmp_path_factory, plan_path):
    """The Cao Lâu plan's knowledge base on a fresh file, once per test module (a module may define its own)."""
    from knowledge.kb import KnowledgeBase
    from knowledge.store import Store

    kb, _ = KnowledgeBase.open(Store(tmp_path_factory.mktemp("kb") / "kb.db"), [plan_path])
    return kb


@pytest.fixture(scope="session")
def plan_doc():
    from knowledge.document import parse_file

    return parse_file(PLAN)


def _is_cli(item: pytest.Item) -> bool:
    return item.path.name == "test_cli.py"


def pytest_collection_modifyitems(session, config, items):
    """The command-line tests go last: they wait on processes started when collection ends."""
    items.sort(key=_is_cli)  # stable: the order inside each group is kept


_CLI_MODULE = pytest.StashKey[object]()


def pytest_collection_finish(session):
    """Start bot.py's runs now, so they work while the in-process tests run (test_cli.start_runs)."""
    cli = [item for item in session.items if _is_cli(item)]
    if cli and not session.config.option.collectonly:
        module = cli[0].module
        session.config.stash[_CLI_MODULE] = module
        module.start_runs()


def pytest_sessionfinish(session, exitstatus):
    """If the session stopped early (-x, Ctrl-C), still wait for those runs and remove their directory."""
    module = session.config.stash.get(_CLI_MODULE, None)
    if module is not None:
        module.stop_runs()
