"""Model folders are data: every corrupt, forged or foreign folder is one ModelFileError naming
the file, and a good one loads back to the same predictions."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_tensors

import neurotwin as nt
from neurotwin import model_files
from neurotwin.errors import DataError, ModelFileError
from neurotwin.learners import Learner, get
from neurotwin.model_files import CONFIG_FILE, WEIGHTS_FILE


@pytest.fixture(scope="module")
def iris():
    return nt.tasks.load("iris", 0)


@pytest.fixture(scope="module")
def saved(iris, tmp_path_factory):
    """``{name: (fitted learner, its saved folder)}`` for a quick mlp and a small hebbian."""
    root = tmp_path_factory.mktemp("saved")
    out = {}
    for name, options in (("mlp", {}), ("hebbian", {"n_hidden": 20})):
        learner = get(name)(quick=True, **options)
        learner.fit(iris, seed=0)
        out[name] = (learner, learner.save(root / name))
    return out


@pytest.fixture
def folder(saved, tmp_path):
    """A fresh copy of the saved hebbian folder, to corrupt."""
    return Path(shutil.copytree(saved["hebbian"][1], tmp_path / "model"))


def _refused(path, *words, file=CONFIG_FILE, **load_options) -> str:
    """Load ``path``, expecting one ModelFileError naming ``file`` and containing ``words``."""
    with pytest.raises(ModelFileError) as info:
        Learner.load(path, **load_options)
    message = str(info.value)
    assert file in message and "\n" not in message, message
    for word in words:
        assert word in message, message
    return message


def _config(folder: Path) -> dict:
    return json.loads((folder / CONFIG_FILE).read_text())


def _write_config(folder: Path, doc, *, sign: bool = True) -> None:
    """Write ``doc`` as config.json; ``sign``: with a matching config_sha256, as a forger (or a
    consistent edit) would, so that the checks after the config's own checksum are reached."""
    if sign and isinstance(doc, dict) and "config_sha256" in doc:
        doc = {**doc, "config_sha256": model_files.config_digest(doc)}
    (folder / CONFIG_FILE).write_text(json.dumps(doc))


def _write_weights(folder: Path, blob: bytes) -> None:
    """Replace the weights and record their checksum, so that only the forgery itself is wrong."""
    (folder / WEIGHTS_FILE).write_bytes(blob)
    doc = _config(folder)
    doc["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    _write_config(folder, doc)


def _split(blob: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8 : 8 + n]), blob[8 + n :]


def _join(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def _by_offset(header: dict) -> list[str]:
    names = [n for n in header if n != "__metadata__"]
    return sorted(names, key=lambda n: header[n]["data_offsets"][0])


# --- good folders --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlp", "hebbian"])
def test_round_trip_gives_identical_predictions(saved, iris, name):
    learner, path = saved[name]
    loaded = Learner.load(path)
    assert type(loaded) is type(learner) and loaded.config == learner.config
    np.testing.assert_array_equal(loaded.predict(iris.X_test), learner.predict(iris.X_test))
    torch.testing.assert_close(
        loaded.outputs(iris.X_test), learner.outputs(iris.X_test), rtol=0, atol=0
    )
    assert loaded.partial_fit(iris.X_train, iris.y_train).epoch == [1]  # _after_load ran


def test_config_records_format_checksum_and_tensors(saved):
    learner, path = saved["mlp"]
    doc = _config(path)
    assert doc["format_version"] == model_files.FORMAT_VERSION
    assert doc["neurotwin_version"] == nt.__version__
    assert doc["weights_sha256"] == hashlib.sha256((path / WEIGHTS_FILE).read_bytes()).hexdigest()
    assert doc["tensors"] == model_files.tensor_map(learner.model.state_dict())
    assert doc["tensors"]["layers.0.mask"] == {"dtype": "BOOL", "shape": [64, 4]}
    rest = {k: v for k, v in doc.items() if k != "config_sha256"}
    canonical = json.dumps(rest, sort_keys=True, separators=(",", ":")).encode()
    assert doc["config_sha256"] == hashlib.sha256(canonical).hexdigest()


@pytest.mark.parametrize(
    ("name", "key", "old", "new"),
    [("hebbian", "readout_power", "3", "7"), ("mlp", "dropout", "0.3", "0.8")],
)
def test_a_changed_config_value_fails_the_config_checksum(saved, tmp_path, name, key, old, new):
    folder = Path(shutil.copytree(saved[name][1], tmp_path / "model"))
    text = (folder / CONFIG_FILE).read_text()
    edited = re.sub(rf'("{key}": ){re.escape(old)}\b', rf"\g<1>{new}", text, count=1)
    assert edited != text
    (folder / CONFIG_FILE).write_text(edited)
    _refused(folder, "config_sha256", "corrupt")


def test_whitespace_and_key_order_do_not_change_the_config_checksum(folder):
    doc = _config(folder)
    (folder / CONFIG_FILE).write_text(json.dumps(dict(reversed(doc.items())), indent=7))
    Learner.load(folder)


def test_saving_again_replaces_both_files(saved, folder, iris):
    learner, _ = saved["mlp"]
    learner.save(folder)
    assert _config(folder)["learner"] == "mlp"
    assert {p.name for p in folder.iterdir()} == {CONFIG_FILE, WEIGHTS_FILE}
    np.testing.assert_array_equal(
        Learner.load(folder).predict(iris.X_test), learner.predict(iris.X_test)
    )


def test_schema_knows_every_dtype_the_reader_knows():
    schema = json.loads((Path(model_files.__file__).parent / model_files.SCHEMA_FILE).read_text())
    assert set(schema["$defs"]["tensor"]["properties"]["dtype"]["enum"]) == set(model_files.DTYPES)


def test_model_file_error_is_a_data_error_so_the_cli_exits_2():
    assert issubclass(ModelFileError, DataError)


def test_a_link_to_a_file_inside_the_folder_is_followed(folder):
    os.replace(folder / CONFIG_FILE, folder / "real.json")
    (folder / CONFIG_FILE).symlink_to("real.json")
    assert Learner.load(folder).name == "hebbian"


# --- model.safetensors ---------------------------------------------------------------------------


def _truncate(blob: bytes) -> bytes:
    return blob[: len(blob) // 2]


def _header_length(delta: int):
    def forge(blob: bytes) -> bytes:
        n = int.from_bytes(blob[:8], "little")
        return (n + delta).to_bytes(8, "little") + blob[8:]

    return forge


def _shift(which: int, by: int, end_only: bool = False):
    """Move tensor number ``which`` (in file order) ``by`` bytes (or only its end)."""

    def forge(blob: bytes) -> bytes:
        header, data = _split(blob)
        entry = header[_by_offset(header)[which]]
        begin, end = entry["data_offsets"]
        entry["data_offsets"] = [begin if end_only else begin + by, end + by]
        return _join(header, data)

    return forge


def _set_dtype(blob: bytes) -> bytes:
    header, data = _split(blob)
    header["readout.bias"]["dtype"] = "F33"
    return _join(header, data)


def _metadata(blob: bytes) -> bytes:
    header, data = _split(blob)
    header["__metadata__"] = {"format": ["pt"]}
    return _join(header, data)


@pytest.mark.parametrize(
    ("forge", "words"),
    [
        (lambda blob: b"", ["too short"]),
        (lambda blob: blob[:5], ["too short"]),
        (_truncate, []),
        (_header_length(2**40), ["runs past the end"]),
        (_header_length(16), []),
        (_header_length(-16), ["not valid JSON"]),
        (lambda blob: (2**64 - 1).to_bytes(8, "little") + blob[8:], ["runs past the end"]),
        (_shift(1, -4), ["overlaps"]),
        (_shift(-1, 4), ["outside"]),
        (_shift(-1, -1, end_only=True), ["needs"]),
        (lambda blob: blob + b"\0" * 4, ["unused bytes"]),
        (_set_dtype, ["unknown dtype"]),
        (_metadata, ["__metadata__"]),
        (lambda blob: (2).to_bytes(8, "little") + b"[]" + blob[10:], []),
        (lambda blob: blob[:8] + b"\xff" + blob[9:], ["UTF-8"]),
    ],
    ids=[
        "empty",
        "shorter-than-8-bytes",
        "truncated",
        "header-length-past-the-end",
        "header-length-too-big",
        "header-length-too-small",
        "header-length-u64-max",
        "offsets-overlap",
        "offsets-out-of-range",
        "offsets-span-wrong-size",
        "trailing-bytes",
        "unknown-dtype",
        "bad-metadata",
        "header-not-an-object",
        "header-not-utf8",
    ],
)
def test_forged_weights_are_refused_before_loading(folder, forge, words):
    _write_weights(folder, forge((folder / WEIGHTS_FILE).read_bytes()))
    _refused(folder, *words, file=WEIGHTS_FILE)


@pytest.mark.parametrize("where", ["data", "header", "header-length"])
def test_a_flipped_byte_is_found(folder, where):
    blob = bytearray((folder / WEIGHTS_FILE).read_bytes())
    n = int.from_bytes(blob[:8], "little")
    position = {"data": len(blob) - 3, "header": 8 + n // 2, "header-length": 1}[where]
    blob[position] ^= 0x01
    (folder / WEIGHTS_FILE).write_bytes(bytes(blob))  # the checksum is not updated
    _refused(folder, file=WEIGHTS_FILE)


def test_a_flipped_weight_byte_fails_the_checksum(folder):
    blob = bytearray((folder / WEIGHTS_FILE).read_bytes())
    blob[-3] ^= 0x01
    (folder / WEIGHTS_FILE).write_bytes(bytes(blob))
    _refused(folder, "SHA-256", file=WEIGHTS_FILE)


def _state(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    return load((folder / WEIGHTS_FILE).read_bytes())


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda t: t["readout.bias"].update(dtype="F64"), ["'readout.bias'", "F32", "F64"]),
        (lambda t: t["hidden.weight"].update(shape=[21, 4]), ["'hidden.weight'", "[21, 4]"]),
    ],
    ids=["dtype", "shape"],
)
def test_weights_that_differ_from_the_config_map_are_refused(folder, edit, words):
    doc = _config(folder)
    edit(doc["tensors"])
    _write_config(folder, doc)
    message = _refused(folder, *words, file=WEIGHTS_FILE)
    assert CONFIG_FILE in message


def test_a_missing_tensor_is_named(folder):
    state = _state(folder)
    del state["readout.bias"]
    _write_weights(folder, save_tensors(state))
    _refused(folder, "'readout.bias'", "is missing", file=WEIGHTS_FILE)


def test_an_extra_tensor_is_named(folder):
    state = _state(folder)
    state["smuggled"] = torch.zeros(3)
    _write_weights(folder, save_tensors(state))
    _refused(folder, "'smuggled'", "does not list", file=WEIGHTS_FILE)


@pytest.mark.parametrize("change", ["drop", "add", "reshape"])
def test_weights_and_map_that_agree_but_not_with_the_model_are_refused(folder, change):
    state = _state(folder)
    if change == "drop":
        del state["readout.bias"]
    elif change == "add":
        state["smuggled"] = torch.zeros(3)
    else:
        state["readout.bias"] = torch.zeros(4)
    blob = save_tensors(state)
    (folder / WEIGHTS_FILE).write_bytes(blob)
    doc = _config(folder)
    doc["weights_sha256"] = hashlib.sha256(blob).hexdigest()
    doc["tensors"] = model_files.tensor_map(state)
    _write_config(folder, doc)
    message = _refused(folder, "does not match", file=CONFIG_FILE)
    assert ("smuggled" if change == "add" else "readout.bias") in message


def test_weights_larger_than_max_bytes_are_refused(folder):
    _refused(folder, "max_bytes", file=WEIGHTS_FILE, max_bytes=100)


# --- config.json ---------------------------------------------------------------------------------


def _edit(**changes):
    def edit(doc: dict) -> dict:
        for key, value in changes.items():
            if value is _DROP:
                del doc[key]
            else:
                doc[key] = value
        return doc

    return edit


_DROP = object()


def _edit_config(**changes):
    def edit(doc: dict) -> dict:
        doc["config"].update(changes)
        return doc

    return edit


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (_edit(n_features="ten"), ["n_features", "'ten'"]),
        (_edit(n_features=0), ["n_features"]),
        (_edit(n_features=10**9), ["n_features"]),
        (_edit(n_outputs=True), ["n_outputs"]),
        (_edit(config=None), ["$.config", "object"]),
        (_edit(config=[1, 2]), ["$.config", "object"]),
        (_edit(tensors=None), ["$.tensors"]),
        (_edit(tensors={}), ["$.tensors"]),
        (_edit(learner=""), ["$.learner"]),
        (_edit(learner=None), ["$.learner"]),
        (_edit(weights_sha256="00"), ["weights_sha256"]),
        (_edit(format_version="1"), ["format_version"]),
        (_edit(format_version=0), ["format_version"]),
        (_edit(task_kind=_DROP), ["'task_kind' is a required property"]),
        (_edit(weights_sha256=_DROP), ["'weights_sha256' is a required property"]),
        (lambda doc: [doc], ["a list", "not a JSON object"]),
        (lambda doc: None, ["null", "not a JSON object"]),
        (lambda doc: {}, ["'format_version' is a required property"]),
        (_edit(task_kind="banana"), ["'banana'", "classification", "regression"]),
        (_edit(task_kind="regression"), ["hebbian handles only classification"]),
        (_edit(learner="no_such_learner"), ["'no_such_learner'", "mlp", "hebbian"]),
        (_edit(variant="no_such_variant"), ["no_such_variant", "random_first_layer"]),
        (_edit_config(bogus=1), ["bogus"]),
        (_edit_config(n_hidden="twenty"), ["hebbian cannot take its config", "twenty"]),
        (_edit_config(k=[1]), ["hebbian"]),
        (_edit_config(n_hidden=-5), []),
        (_edit(n_features=5), ["does not match", "'encoder.offset'", "F32 [5]"]),
    ],
    ids=lambda value: None if callable(value) else "-".join(map(str, value))[:40] or "list",
)
def test_invalid_configs_are_refused(folder, edit, words):
    _write_config(folder, edit(_config(folder)))
    _refused(folder, *words)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "{not json",
        '{"a": NaN}',
        '{"a": Infinity}',
        '{"a": 1, "a": 2}',
        "[" * 10_000 + "]" * 10_000,
        '{"config": ' + '{"a": ' * 10_000 + "1" + "}" * 10_001,
        '{"s": "' + "[" * 100 + '"}',
    ],
    ids=[
        "empty",
        "blank",
        "not-json",
        "nan",
        "infinity",
        "repeated-key",
        "deep",
        "deep-inside",
        "brackets-in-a-string",
    ],
)
def test_config_text_that_is_not_strict_json_is_refused_quickly(folder, text):
    (folder / CONFIG_FILE).write_text(text)
    start = time.perf_counter()
    _refused(folder)
    assert time.perf_counter() - start < 1.0


def test_a_huge_config_file_is_refused_unread(folder):
    (folder / CONFIG_FILE).write_bytes(b" " * (model_files.MAX_CONFIG_BYTES + 1))
    _refused(folder, "more than")


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("hebbian", {"n_hidden": 10**9}),
        ("mlp", {"hidden": [10**9]}),
        ("mlp", {"hidden": [10**9, 10**9]}),
    ],
)
def test_huge_sizes_in_the_config_fail_fast_without_allocating(saved, tmp_path, name, change):
    folder = Path(shutil.copytree(saved[name][1], tmp_path / "model"))
    _write_config(folder, _edit_config(**change)(_config(folder)))
    start = time.perf_counter()
    _refused(folder, "does not match", "1000000000")
    assert time.perf_counter() - start < 1.0


def test_a_folder_from_before_format_1_is_refused_with_its_version(folder):
    doc = _config(folder)
    legacy = {
        k: doc[k] for k in ("learner", "variant", "config", "task_kind", "n_features", "n_outputs")
    }
    _write_config(folder, legacy)
    _refused(folder, "earlier neurotwin (format 0)", "checksum of the weights", "re-run")


def test_a_folder_of_format_1_is_refused_for_its_missing_config_checksum(folder):
    doc = _config(folder)
    del doc["config_sha256"]
    doc["format_version"] = 1
    _write_config(folder, doc)
    _refused(folder, "earlier neurotwin (format 1)", "checksum of its own content", "re-run")


def test_a_folder_from_a_newer_format_asks_for_an_upgrade(folder):
    doc = _config(folder)
    doc.update(format_version=model_files.FORMAT_VERSION + 1, neurotwin_version="9.0.0")
    _write_config(folder, doc)
    newer = f"format {model_files.FORMAT_VERSION + 1}"
    _refused(folder, "newer neurotwin", newer, "9.0.0", "upgrade")


def test_loading_as_another_learner_class_is_refused(folder):
    with pytest.raises(ModelFileError, match="holds a hebbian model, not mlp"):
        get("mlp").load(folder)


# --- the folder and its files --------------------------------------------------------------------


def test_a_missing_folder_is_named(tmp_path):
    _refused(tmp_path / "nowhere", "no such model folder", file="nowhere")


def test_a_file_instead_of_a_folder_is_named(tmp_path):
    (tmp_path / "model").write_text("{}")
    _refused(tmp_path / "model", "is not a folder", file="model")


@pytest.mark.parametrize("name", [CONFIG_FILE, WEIGHTS_FILE])
def test_a_missing_file_is_named(folder, name):
    (folder / name).unlink()
    _refused(folder, "is missing", "not a saved neurotwin model", file=name)


@pytest.mark.parametrize("name", [CONFIG_FILE, WEIGHTS_FILE])
def test_a_link_out_of_the_folder_is_refused(folder, tmp_path, name):
    outside = tmp_path / f"outside-{name}"
    shutil.copy(folder / name, outside)  # a perfectly good file, but not in the folder
    (folder / name).unlink()
    (folder / name).symlink_to(outside)
    _refused(folder, "symbolic link", "outside the model folder", file=name)


def test_a_link_loop_is_refused(folder):
    (folder / CONFIG_FILE).unlink()
    (folder / CONFIG_FILE).symlink_to(CONFIG_FILE)
    _refused(folder)


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_file_that_is_not_regular_is_refused(folder, kind):
    (folder / CONFIG_FILE).unlink()
    if kind == "folder":
        (folder / CONFIG_FILE).mkdir()
    elif hasattr(os, "mkfifo"):
        os.mkfifo(folder / CONFIG_FILE)
    else:
        pytest.skip("no FIFOs here")
    _refused(folder, "not a regular file")


# --- random damage -------------------------------------------------------------------------------


def _damage(blob: bytes, rng) -> bytes:
    b = bytearray(blob)
    op = rng.choice(["flip", "truncate", "insert", "delete", "scribble"])
    if op == "flip":
        b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif op == "truncate":
        del b[rng.randrange(len(b)) :]
    elif op == "insert":
        b.insert(rng.randrange(len(b)), rng.randrange(256))
    elif op == "delete":
        del b[rng.randrange(len(b))]
    else:
        for _ in range(rng.randrange(2, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    return bytes(b)


def test_random_damage_never_escapes_as_another_exception(saved, tmp_path):
    import random

    rng = random.Random(0)
    source = saved["mlp"][1]
    files = {name: (source / name).read_bytes() for name in (CONFIG_FILE, WEIGHTS_FILE)}
    folder = tmp_path / "model"
    folder.mkdir()
    for _ in range(150):
        damaged = rng.choice(sorted(files))
        for name, blob in files.items():
            (folder / name).write_bytes(_damage(blob, rng) if name == damaged else blob)
        try:
            Learner.load(folder)
        except ModelFileError as exc:
            assert damaged in str(exc) or CONFIG_FILE in str(exc), str(exc)
