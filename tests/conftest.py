"""Helpers shared by the registry tests: installed-looking plug-in distributions, and a registry
restored after each test."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest


def _write_distribution(root: Path, name: str, entry_points: str, files: dict[str, str]) -> None:
    """An installed-looking distribution in ``root``: its modules and ``<name>-0.1.dist-info``."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def write_distribution():
    """``write_distribution(root, name, entry_points, files)``: an installed-looking plug-in
    distribution in ``root`` (its modules and ``<name>-0.1.dist-info`` with the entry points)."""
    return _write_distribution


@pytest.fixture
def isolate(monkeypatch):
    """``isolate(registry, table)``: the registry module's ``table`` as it is now, restored after
    the test, with discovery forgotten so it reruns; returns a set to which a test adds the
    plug-in modules it imported (they are forgotten afterwards)."""
    added: set[str] = set()

    def isolate_(registry, table: str) -> set[str]:
        registry._discovery()  # discover the built-in entries before taking a copy
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))
        monkeypatch.setattr(registry._discovery, "done", registry._discovery.done)
        registry._forget_discovery()
        return added

    yield isolate_
    for module in added:
        sys.modules.pop(module, None)
        parent, _, child = module.rpartition(".")
        if parent in sys.modules:
            vars(sys.modules[parent]).pop(child, None)


def _single_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def one_thread():
    """Run a test on one intra-op thread, restored afterwards. Hundreds of steps on tiny tensors gain
    nothing from a second thread and, on a loaded 2-core machine, lose a lot to its wake-ups (a
    (20, 5) @ (5, 3) product then takes milliseconds instead of microseconds)."""
    yield from _single_thread()


@pytest.fixture(scope="module")
def one_thread_module():
    """:func:`one_thread` for a whole module, its module-scoped fixtures (fitted learners)
    included: name it in ``pytestmark = pytest.mark.usefixtures("one_thread_module")``."""
    yield from _single_thread()
