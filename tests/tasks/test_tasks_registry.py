"""The task registry: register a loader by name, or ship it through an entry point."""

import numpy as np
import pytest

from neurotwin import tasks
from neurotwin.errors import ConfigError
from neurotwin.tasks import registry


def toy_loader(seed, n=40):
    """Toy blobs: two classes of n points."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = np.arange(n) % 2
    return tasks.Task.from_arrays(X + y[:, None], y, seed=seed, name="toy")


@pytest.fixture
def isolated_registry(isolate):
    """The task registry as it is now, restored afterwards; discovery forgotten so it reruns."""
    return isolate(registry, "_TASKS")


def test_registered_loader_is_loadable_and_listed(isolated_registry):
    tasks.register("toy", toy_loader, "two toy blobs")
    task = tasks.load("toy", 3)
    assert task.name == "toy" and task.seed == 3 and task.n_train + task.n_test == 40
    np.testing.assert_array_equal(task.X_test, toy_loader(3).X_test)
    assert "toy" in tasks.available() and tasks.DESCRIPTIONS["toy"] == "two toy blobs"
    assert ("toy", "two toy blobs") in tasks.DESCRIPTIONS.items()
    assert tasks.load("toy", 0, n=60).n_train + tasks.load("toy", 0, n=60).n_test == 60


def test_registered_toy_is_gone_after_the_test():
    assert "toy" not in tasks.available()


def test_loader_options_are_checked(isolated_registry):
    tasks.register("toy", toy_loader, "two toy blobs")
    with pytest.raises(ConfigError, match=r"'toy' takes no option 'size'; its options: n"):
        tasks.load("toy", size=3)
    with pytest.raises(ConfigError, match="--kind applies to .csv/.npz files"):
        tasks.load("toy", kind="regression")
    # --data-dir serves every task: a loader that reads no files ignores it
    assert tasks.load("toy", data_dir="/nowhere").n_test == 10


def test_bad_registrations_are_refused():
    with pytest.raises(ConfigError, match="ends like a file"):
        tasks.register("mine.csv", toy_loader, "a toy")
    with pytest.raises(ConfigError, match="one non-empty line"):
        tasks.register("toy2", toy_loader, "two\nlines")
    with pytest.raises(ConfigError, match="must be callable"):
        tasks.register("toy3", "not a function", "a toy")


def test_bundled_datasets_register_like_any_other():
    for name in ("digits", "digits28", "breast_cancer", "diabetes", "iris", "wine"):
        assert registry.get(name) is not None
    assert registry.get("mnist").options() == ["data_dir"]
    assert tasks.available()[0] == "digits"


def test_entry_points_module_and_loader(
    tmp_path, monkeypatch, isolated_registry, write_distribution
):
    module = """
    import numpy as np
    import neurotwin.tasks


    def load_small(seed):
        \"\"\"A small regression plug-in.\"\"\"
        X = np.arange(40.0).reshape(20, 2)
        return neurotwin.tasks.Task.from_arrays(X, X[:, 0] * 0.37, seed=seed, name="small")


    neurotwin.tasks.register("toy_plugin_module", load_small, "registered at import")
    """
    write_distribution(
        tmp_path,
        "toytasks",
        "[neurotwin.tasks]\nsome_tasks = toytasks\ntoy_plugin_loader = toytasks:load_small\n",
        {"toytasks.py": module},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    isolated_registry.add("toytasks")
    assert {"toy_plugin_module", "toy_plugin_loader"} <= set(tasks.available())
    assert tasks.DESCRIPTIONS["toy_plugin_loader"] == "A small regression plug-in."
    task = tasks.load("toy_plugin_loader", 1)
    assert task.kind == "regression" and task.n_test == 5
    assert tasks.load("toy_plugin_module", 1).name == "small"


def test_broken_task_entry_point_warns_and_is_skipped(
    tmp_path, monkeypatch, isolated_registry, write_distribution
):
    write_distribution(
        tmp_path,
        "brokentasks",
        "[neurotwin.tasks]\nbroken_task = brokentasks:missing_loader\n",
        {"brokentasks.py": "VALUE = 1\n"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    isolated_registry.add("brokentasks")
    with pytest.warns(UserWarning, match=r"task entry point 'broken_task'.*missing_loader"):
        names = tasks.available()
    assert "broken_task" not in names and "digits" in names
    assert tasks.load("iris", 0).n_test == 38
