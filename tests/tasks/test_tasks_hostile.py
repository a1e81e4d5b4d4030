"""Hostile files: bounded before they are read, and each refused with one line naming the file.

The archives are built by hand in ``tmp_path`` (a ``.npy`` header written as the format
specification says, then as many zero bytes as a test needs, deflated), so a header can claim
what its data does not hold, and a small file can unpack to a large one.
"""

import struct
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest

from neurotwin import tasks
from neurotwin.errors import ConfigError, DataError
from neurotwin.learners import get
from neurotwin.tasks import Task

MiB = 1024**2


def npy_header(shape, descr="<f8") -> bytes:
    """A version 1.0 ``.npy`` header: magic, version, little-endian length, then the dict padded
    with spaces and a newline to a multiple of 64 bytes (NEP 1)."""
    text = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def write_npz(path, members, compression=zipfile.ZIP_DEFLATED):
    """An archive of ``{name: (header, n_zero_bytes) or array}``; zeros are streamed in 1 MiB
    pieces, so the test itself never holds them."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, content in members.items():
            with archive.open(name, "w", force_zip64=True) as fh:
                if isinstance(content, np.ndarray):
                    np.lib.format.write_array(fh, content, allow_pickle=True)
                    continue
                header, n_zero_bytes = content
                fh.write(header)
                while n_zero_bytes > 0:
                    fh.write(bytes(min(MiB, n_zero_bytes)))
                    n_zero_bytes -= MiB
    return path


def load_measured(path):
    """``(error, peak traced bytes, seconds)`` of loading ``path``, which must fail."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(DataError) as info:
            tasks.load(path)
        return info.value, tracemalloc.get_traced_memory()[1], time.perf_counter() - start
    finally:
        tracemalloc.stop()


def labels(n=20):
    return np.arange(n) % 2


@pytest.fixture(autouse=True)
def default_budget(monkeypatch):
    monkeypatch.delenv("NEUROTWIN_MAX_ARRAY_BYTES", raising=False)


def one_line_naming(error, path):
    message = str(error)
    assert "\n" not in message and message.startswith(f"{path.resolve()}: ")
    return message


# -------------------------------------------------------------------------- bounded before read


def test_header_claiming_a_huge_shape_is_refused_from_the_header(tmp_path):
    # 16 MiB of zeros deflate to ~16 KiB; the header claims 3.2 TB (shape (1e11, 4) float64)
    path = write_npz(
        tmp_path / "bomb.npz",
        {"X.npy": (npy_header((10**11, 4)), 16 * MiB), "y.npy": labels(10**5)},
    )
    assert path.stat().st_size < MiB
    error, peak, seconds = load_measured(path)
    assert one_line_naming(error, path).endswith(
        "array 'X' declares shape (100000000000, 4) float64 = 2.9 TiB; the limit is 2.0 GiB "
        "(NEUROTWIN_MAX_ARRAY_BYTES) — use a smaller file, or raise the limit if the memory is "
        "there"
    )
    assert peak < 5 * MiB and seconds < 5


def test_member_unpacking_beyond_the_budget_is_refused_before_it_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROTWIN_MAX_ARRAY_BYTES", str(10 * MiB))
    honest = npy_header((50 * MiB // 32, 4))  # 50 MiB of float64, as the data holds
    path = write_npz(tmp_path / "big.npz", {"X.npy": (honest, 50 * MiB), "y.npy": labels(8)})
    error, peak, _ = load_measured(path)
    assert one_line_naming(error, path).endswith(
        "array 'X' declares shape (1638400, 4) float64 = 50.0 MiB; the limit is 10.0 MiB "
        "(NEUROTWIN_MAX_ARRAY_BYTES) — use a smaller file, or raise the limit if the memory is "
        "there"
    )
    assert peak < 5 * MiB
    # a header declaring little, over 50 MiB of data: refused on the member's unpacked size
    small = npy_header((2, 4))
    path = write_npz(tmp_path / "hidden.npz", {"X.npy": (small, 50 * MiB), "y.npy": labels(2)})
    error, peak, _ = load_measured(path)
    assert "array 'X' unpacks to 50.0 MiB; the limit is 10.0 MiB" in one_line_naming(error, path)
    assert peak < 5 * MiB


def test_array_within_a_raised_budget_loads(tmp_path, monkeypatch):
    X = np.random.default_rng(0).normal(size=(40, 4))  # 1280 bytes + a 128-byte header
    path = tmp_path / "ok.npz"
    np.savez_compressed(path, X=X, y=labels(40))
    monkeypatch.setenv("NEUROTWIN_MAX_ARRAY_BYTES", "1280")
    task = tasks.load(path)
    np.testing.assert_array_equal(np.sort(np.vstack([task.X_train, task.X_test]), 0), np.sort(X, 0))
    monkeypatch.setenv("NEUROTWIN_MAX_ARRAY_BYTES", "1279")
    with pytest.raises(DataError, match=r"= 1\.2 KiB; the limit is 1\.2 KiB"):
        tasks.load(path)


def test_lying_header_is_refused(tmp_path):
    # the header declares 10 rows (320 bytes of data); the member holds 5 rows, or 20
    for rows in (5, 20):
        path = write_npz(
            tmp_path / f"lying{rows}.npz",
            {"X.npy": (npy_header((10, 4)), rows * 32), "y.npy": labels(10)},
        )
        with pytest.raises(DataError) as info:
            tasks.load(path)
        assert f"holds {rows * 32} bytes of data; the file is damaged" in one_line_naming(
            info.value, path
        )
        assert "array 'X' declares shape (10, 4) float64 (320 bytes of data)" in str(info.value)


RAN = []


def _trap():
    RAN.append("unpickled")


class Trap:
    """Unpickling this runs ``_trap``: what a malicious object array could do."""

    def __reduce__(self):
        return _trap, ()


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    path = tmp_path / "pickle.npz"
    np.savez(path, X=np.array([[Trap()] for _ in range(4)], dtype=object), y=labels(4))
    with np.load(path, allow_pickle=True) as archive:
        archive["X"]  # the file does run code when unpickled …
    assert RAN == ["unpickled"] * 4
    RAN.clear()
    with pytest.raises(DataError) as info:
        tasks.load(path)  # … and neurotwin does not unpickle it
    assert RAN == []
    assert "array 'X' holds Python objects (dtype object)" in one_line_naming(info.value, path)


def test_only_the_named_arrays_are_read(tmp_path):
    # an extra member claiming 3.2 TB is never opened
    X = np.random.default_rng(1).normal(size=(20, 3))
    path = write_npz(
        tmp_path / "extra.npz",
        {"X.npy": X, "y.npy": labels(20), "notes.npy": (npy_header((10**11, 4)), 64)},
    )
    assert tasks.load(path).n_features == 3


def test_other_zip_methods_and_single_arrays_are_named(tmp_path):
    path = write_npz(
        tmp_path / "bz.npz", {"X.npy": np.zeros((4, 2)), "y.npy": labels(4)}, zipfile.ZIP_BZIP2
    )
    with pytest.raises(DataError, match="array 'X' is packed with zip method 12; numpy writes"):
        tasks.load(path)
    path = tmp_path / "single.npz"
    with path.open("wb") as fh:
        np.save(fh, np.zeros((4, 2)))
    with pytest.raises(DataError, match=r"it is a single \.npy array, not named arrays"):
        tasks.load(path)


def test_garbled_header_is_named(tmp_path):
    bad = b"\x93NUMPY\x01\x00" + struct.pack("<H", 16) + b"{'descr': 'zz'}\n"
    path = write_npz(tmp_path / "garbled.npz", {"X.npy": (bad, 0), "y.npy": labels(4)})
    with pytest.raises(DataError) as info:
        tasks.load(path)
    assert "array 'X' is not a readable .npy array" in one_line_naming(info.value, path)


def test_csv_beyond_the_budget_is_refused_before_it_is_read(tmp_path, monkeypatch):
    path = tmp_path / "big.csv"
    path.write_text("a,label\n" + "1.234567,0\n2.345678,1\n" * 50)  # 1108 bytes, 800 as float64
    monkeypatch.setenv("NEUROTWIN_MAX_ARRAY_BYTES", "1000")
    with pytest.raises(DataError) as info:
        tasks.load(path, target="label")
    assert one_line_naming(info.value, path).endswith(
        "the file is 1.1 KiB; the limit is 1000 B (NEUROTWIN_MAX_ARRAY_BYTES) — use a smaller "
        "file, or raise the limit if the memory is there"
    )
    monkeypatch.setenv("NEUROTWIN_MAX_ARRAY_BYTES", "1108")
    assert tasks.load(path, target="label").n_features == 1


def test_csv_whose_features_outgrow_the_budget_is_refused_while_read(tmp_path, monkeypatch):
    path = tmp_path / "short.csv"
    path.write_text("a,b,label\n" + "1,2,0\n" * 100)  # 610 bytes of text, 1600 as float64
    monkeypatch.setenv("NEUROTWIN_MAX_ARRAY_BYTES", "1000")
    with pytest.raises(DataError) as info:
        tasks.load(path, target="label")
    assert "its features reach 1008 B as float64 at line 64; the limit is 1000 B" in (
        one_line_naming(info.value, path)
    )


@pytest.mark.parametrize("value", ["lots", "-5", "0", "2.5"])
def test_a_bad_budget_is_a_config_error(tmp_path, monkeypatch, value):
    path = tmp_path / "a.csv"
    path.write_text("a,label\n1,0\n")
    monkeypatch.setenv("NEUROTWIN_MAX_ARRAY_BYTES", value)
    with pytest.raises(ConfigError, match=f"NEUROTWIN_MAX_ARRAY_BYTES='{value}' is not a positive"):
        tasks.load(path, target="label")


# ---------------------------------------------------------------------------- empty arrays


@pytest.mark.parametrize(
    ("arrays", "says"),
    [
        ({"X": np.zeros((0, 4)), "y": np.zeros(0)}, "array 'X' has no samples"),
        ({"X": np.zeros((10, 0)), "y": labels(10)}, r"array 'X' has no features \(shape \(10, 0\)"),
        ({"X": np.zeros((10, 3, 0)), "y": labels(10)}, "array 'X' has no features"),
        ({"X": np.zeros((10, 2)), "y": np.zeros(0)}, "array 'y' has 0 entries but 'X' has 10"),
    ],
    ids=["no-rows", "no-columns", "empty-images", "empty-y"],
)
def test_empty_arrays_are_named_with_the_file(tmp_path, arrays, says):
    path = tmp_path / "empty.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=says) as info:
        tasks.load(path)
    one_line_naming(info.value, path)


# ---------------------------------------------------------------- values too large, no warnings


def test_huge_values_are_named_without_numpy_warnings(tmp_path):
    X = np.random.default_rng(2).normal(size=(20, 3))
    X[3, 2] = 1e308
    path = tmp_path / "huge.npz"
    np.savez(path, X=X, y=labels(20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError) as info:
            tasks.load(path)
    assert one_line_naming(info.value, path).endswith(
        "array 'X' holds 1e+308 at row 3, column 'x2', too large to standardise (the models "
        "compute in float32; |value| must be at most 1e+38) — rescale that column"
    )


def test_huge_csv_cell_is_named_by_row_line_and_column(tmp_path):
    path = tmp_path / "huge.csv"
    rows = [f"{i},{i % 2},{i % 2}" for i in range(10)]
    rows[3] = "3,-1e308,1"
    path.write_text("a,b,label\n" + "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(DataError) as info:
            tasks.load(path, target="label")
    assert one_line_naming(info.value, path).endswith(
        "row 4 (line 5), column 'b' is -1e308, too large to standardise (the models compute in "
        "float32; |value| must be at most 1e+38) — rescale that column"
    )


def test_huge_values_in_other_arrays_are_named():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(20, 2)), labels(20)
    images = rng.normal(size=(20, 2, 3))
    images[5, 1, 2] = -3e38
    with pytest.raises(DataError, match=r"array 'X' holds -3e\+38 at index \(5, 1, 2\), too lar"):
        Task.from_arrays(images, y)
    X_test = rng.normal(size=(6, 2))
    X_test[1, 0] = 2e38
    with pytest.raises(DataError, match=r"'X_test' holds 2e\+38 at row 1, column 'left', too"):
        Task.from_arrays(X, y, X_test, labels(6), feature_names=["left", "right"], where="mine")
    values = rng.normal(size=20)
    values[7] = 1e39
    with pytest.raises(DataError, match=r"array 'y' holds 1e\+39 at index 7, too .* the target"):
        Task.from_arrays(X, values, kind="regression")
    # the limit itself is allowed, and float32 holds it
    X[0, 0] = -1e38
    assert np.isfinite(np.float32(Task.from_arrays(X, y).X_train.min()))


@pytest.mark.parametrize("name", ["mlp", "hebbian"])  # standardised and unit-range inputs
@pytest.mark.parametrize("tiny", [1e-310, 1e-100])  # subnormal, and zero in float32
def test_features_with_tiny_spread_train_without_diverging(name, tiny):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] > 0).astype(int)
    X[:, 1:] *= tiny
    task = Task.from_arrays(X, y, seed=0)
    learner = get(name)(quick=True)
    learner.fit(task, seed=0, epochs=2)
    assert np.all(np.isfinite(learner.outputs(task.X_test).numpy()))


# --------------------------------------------------------------------------------- one class


def test_one_class_csv_and_npz_are_refused(tmp_path):
    csv = tmp_path / "one.csv"
    csv.write_text("a,label\n" + "".join(f"{i},yes\n" for i in range(10)))
    with pytest.raises(DataError) as info:
        tasks.load(csv, target="label")
    assert one_line_naming(info.value, csv).endswith(
        "the target has one class ('yes'); a classifier needs at least 2 — add samples of "
        "another class"
    )
    npz = tmp_path / "one.npz"
    np.savez(npz, X=np.zeros((10, 2)), y=np.full(10, 3))
    with pytest.raises(DataError, match=r"the target has one class \('3'\)") as info:
        tasks.load(npz)
    one_line_naming(info.value, npz)
    # a regression target may be constant; its kind is not a classifier's
    assert tasks.load(npz, kind="regression").kind == "regression"


def test_fixed_split_needs_two_classes_in_its_training_part(tmp_path):
    path = tmp_path / "fixed.npz"
    np.savez(path, X=np.zeros((10, 2)), y=np.zeros(10), X_test=np.zeros((4, 2)), y_test=labels(4))
    with pytest.raises(DataError) as info:
        tasks.load(path)
    assert "the training part ('y', the split being fixed) has one class ('0')" in (
        one_line_naming(info.value, path)
    )


def test_one_present_class_of_given_names_is_refused():
    X, y, y_test = np.zeros((10, 2)), np.zeros(10, dtype=int), labels(4)
    with pytest.raises(
        DataError, match=r"part \('y', the split being fixed\) has one class \('cat'\)"
    ):
        Task.from_arrays(X, y, X[:4], y_test, class_names=["cat", "dog"])
    with pytest.raises(DataError, match=r"class 'dog' \(0\) has fewer than 2 samples"):
        Task.from_arrays(X, y, class_names=["cat", "dog"])


def test_column_names_with_line_breaks_stay_on_one_line(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("a,b\x0cc,d\n1,2,3\n", newline="")
    with pytest.raises(DataError, match=r"the columns are: a, 'b\\x0cc', d$") as info:
        tasks.load(path, target="y")
    one_line_naming(info.value, path)
    assert len(str(info.value).splitlines()) == 1
