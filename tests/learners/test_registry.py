"""The learner registry finds learners without edits: package modules and entry points."""

import os
import subprocess
import sys
import textwrap

import pytest

import neurotwin.learners
from neurotwin.errors import ConfigError
from neurotwin.learners import registry

TOY_LEARNER = """
import neurotwin.learners


@neurotwin.learners.register
class ToyLearner(neurotwin.learners.Learner):
    name = "toy_entry_point"
    description = "a toy reached only through an entry point"
"""


@pytest.fixture
def isolated_registry(isolate):
    """The registry as it is now, restored afterwards; discovery forgotten so it reruns."""
    return isolate(registry, "_REGISTRY")


def test_entry_point_module_registers_its_learner(
    tmp_path, monkeypatch, isolated_registry, write_distribution
):
    write_distribution(
        tmp_path,
        "toypkg",
        "[neurotwin.learners]\ntoy_entry_point = toypkg\n",
        {"toypkg/__init__.py": TOY_LEARNER},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    isolated_registry.add("toypkg")
    cls = neurotwin.learners.get("toy_entry_point")
    assert cls is sys.modules["toypkg"].ToyLearner
    names = neurotwin.learners.available()
    assert "toy_entry_point" in names
    # neurotwin's own learners come first, the plug-in's after them
    assert names.index("mlp") < names.index("toy_entry_point")


def test_entry_point_to_a_class_registers_it(
    tmp_path, monkeypatch, isolated_registry, write_distribution
):
    plain = """
    from neurotwin.learners import Learner


    class Unregistered(Learner):  # no @register: the entry point names the class itself
        name = "toy_class_entry_point"
    """
    write_distribution(
        tmp_path,
        "toyclasspkg",
        "[neurotwin.learners]\ntoy_class_entry_point = toyclasspkg:Unregistered\n",
        {"toyclasspkg.py": plain},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    isolated_registry.add("toyclasspkg")
    assert neurotwin.learners.get("toy_class_entry_point").__name__ == "Unregistered"


def test_toy_learner_is_gone_after_the_test():
    # runs after the tests above: the fixture restored the registry
    assert "toy_entry_point" not in neurotwin.learners.available()
    assert "toy_class_entry_point" not in neurotwin.learners.available()


def test_broken_entry_point_warns_and_is_skipped(
    tmp_path, monkeypatch, isolated_registry, write_distribution
):
    write_distribution(
        tmp_path,
        "brokenpkg",
        "[neurotwin.learners]\nbroken_learner = no_such_module_for_neurotwin\n"
        "not_a_learner = brokenpkg:VALUE\n",
        {"brokenpkg.py": "VALUE = 3\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    isolated_registry.add("brokenpkg")
    with pytest.warns(UserWarning) as caught:
        names = neurotwin.learners.available()
    messages = [str(w.message) for w in caught]
    assert any("'broken_learner'" in m and "no_such_module_for_neurotwin" in m for m in messages)
    assert any("'not_a_learner'" in m and "int" in m for m in messages)
    assert {"mlp", "hebbian"} <= set(names)
    assert "broken_learner" not in names and "not_a_learner" not in names


def test_module_dropped_into_the_package_is_found(tmp_path, monkeypatch, isolated_registry):
    folder = tmp_path / "more_learners"
    folder.mkdir()
    (folder / "toy_dropped.py").write_text(
        textwrap.dedent(
            """
            from neurotwin.learners.base import Learner
            from neurotwin.learners.registry import register


            @register
            class Dropped(Learner):
                name = "toy_dropped"
            """
        )
    )
    # as if the file had been added to src/neurotwin/learners/ (no other edit)
    monkeypatch.setattr(neurotwin.learners, "__path__", [*neurotwin.learners.__path__, str(folder)])
    isolated_registry.add("neurotwin.learners.toy_dropped")
    assert "toy_dropped" in neurotwin.learners.available()
    assert neurotwin.learners.get("toy_dropped").__module__ == "neurotwin.learners.toy_dropped"


def test_cleared_registry_rediscovers_the_builtin_learners():
    # in a fresh interpreter, with every learner module unimported and the registry emptied,
    # discovery alone must find them (no hard-coded import list)
    script = textwrap.dedent(
        """
        import sys
        from neurotwin.learners import registry

        for module in [m for m in sys.modules if m.startswith("neurotwin.learners.")]:
            if module not in (
                "neurotwin.learners.base",
                "neurotwin.learners.registry",
                "neurotwin.learners.supervised",
            ):
                del sys.modules[module]
        registry._REGISTRY.clear()
        registry._forget_discovery()
        print(",".join(registry.available()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    names = done.stdout.strip().split(",")
    assert {"mlp", "hebbian"} <= set(names)
    # the backprop network first (the reference of --models all), then the other artificial
    # rules, then the brain-like ones; by module within each, not by import order
    assert names[0] == "mlp"
    assert max(names.index(n) for n in ("fa", "dfa", "sign", "linear")) < names.index("hebbian")


def test_unknown_learner_lists_the_choices():
    with pytest.raises(ConfigError, match=r"unknown learner 'mlpp'; choose from: .*mlp"):
        neurotwin.learners.get("mlpp")
