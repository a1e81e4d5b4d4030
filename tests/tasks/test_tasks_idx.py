"""The IDX reader and the MNIST loader, on small IDX files written here (never the network)."""

import gzip
import hashlib
import struct
import urllib.error

import numpy as np
import pytest

from neurotwin import tasks
from neurotwin.errors import DataError
from neurotwin.tasks import mnist
from neurotwin.tasks.idx import read_idx

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def idx_bytes(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array, written from the format description (not the reader)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write(path, data: bytes):
    if path.name.endswith(".gz"):
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)
    return path


def fake_mnist(folder, n_train=12, n_test=5, gz=True, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        write(folder / (stem + (".gz" if gz else "")), idx_bytes(array))
    return arrays


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_reader_returns_exactly_the_written_arrays(tmp_path, suffix):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    labels = np.array([7, 0, 255], dtype=np.uint8)
    img_path = write(tmp_path / f"img{suffix}", idx_bytes(images))
    lab_path = write(tmp_path / f"lab{suffix}", idx_bytes(labels))
    np.testing.assert_array_equal(read_idx(img_path, 2051), images)
    np.testing.assert_array_equal(read_idx(lab_path, 2049), labels)


def test_reader_handles_big_endian_int32(tmp_path):
    values = np.array([[1, -2], [70000, 3]], dtype=">i4")
    data = bytes([0, 0, 0x0C, 2]) + struct.pack(">2I", 2, 2) + values.tobytes()
    np.testing.assert_array_equal(read_idx(write(tmp_path / "x", data)), [[1, -2], [70000, 3]])


def test_corrupted_magic_is_named(tmp_path):
    data = bytearray(idx_bytes(np.zeros((2, 28, 28), dtype=np.uint8)))
    data[2] = 0x07  # not an IDX type code
    path = write(tmp_path / "train-images-idx3-ubyte", bytes(data))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte: magic number 1795 is not 2051"):
        read_idx(path, 2051)
    with pytest.raises(DataError, match="not an IDX header"):
        read_idx(path)


def test_truncated_file_is_named(tmp_path):
    data = idx_bytes(np.zeros((4, 28, 28), dtype=np.uint8))[:-100]
    path = write(tmp_path / "t10k-images-idx3-ubyte.gz", data)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.gz: file truncated.*3036"):
        read_idx(path, 2051)


def test_truncated_gzip_stream_is_named(tmp_path):
    path = write(tmp_path / "lab.gz", idx_bytes(np.arange(200, dtype=np.uint8)))
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(DataError, match="lab.gz: cannot read"):
        read_idx(path)


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_loads_fixed_split_from_data_dir(tmp_path, gz):
    arrays = fake_mnist(tmp_path / "data", gz=gz)
    task = tasks.load("mnist", seed=4, data_dir=tmp_path / "data")
    np.testing.assert_array_equal(
        task.X_train, arrays["train-images-idx3-ubyte"].reshape(12, 784).astype(np.float64)
    )
    np.testing.assert_array_equal(task.y_test, arrays["t10k-labels-idx1-ubyte"])
    assert task.X_train.dtype == np.float64 and task.y_train.dtype == np.int64
    assert task.input_shape == (28, 28) and task.class_names == [str(d) for d in range(10)]
    assert task.seed == 4 and task.fixed_split
    # the split does not depend on the seed
    np.testing.assert_array_equal(
        tasks.load("mnist", 9, data_dir=tmp_path / "data").X_test, task.X_test
    )


def test_fashion_mnist_found_in_named_subfolder_of_env(tmp_path, monkeypatch):
    fake_mnist(tmp_path / "shared" / "fashion_mnist")
    monkeypatch.setenv("NEUROTWIN_DATA", str(tmp_path / "shared"))
    monkeypatch.setenv("NEUROTWIN_OFFLINE", "1")
    task = tasks.load("fashion_mnist")
    assert task.class_names[0] == "T-shirt/top" and task.class_names[9] == "Ankle boot"
    assert task.n_train == 12 and task.n_test == 5


def test_count_mismatch_between_images_and_labels(tmp_path):
    fake_mnist(tmp_path)
    write(tmp_path / "t10k-labels-idx1-ubyte.gz", idx_bytes(np.zeros(4, dtype=np.uint8)))
    with pytest.raises(DataError, match="5 images but t10k-labels-idx1-ubyte.gz has 4 labels"):
        tasks.load("mnist", data_dir=tmp_path)


def test_offline_missing_files_fail_at_once_with_a_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("NEUROTWIN_OFFLINE", "1")

    def no_network(*args, **kwargs):
        raise AssertionError("tried the network although NEUROTWIN_OFFLINE=1")

    monkeypatch.setattr(mnist, "download_file", no_network)
    (tmp_path / "mnist").mkdir()
    write(tmp_path / "mnist" / "train-labels-idx1-ubyte", idx_bytes(np.zeros(3, dtype=np.uint8)))
    with pytest.raises(DataError) as info:
        tasks.load("mnist", data_dir=tmp_path)
    message = str(info.value)
    assert "\n" not in message
    assert "t10k-images-idx3-ubyte" in message and str(tmp_path / "mnist") in message
    assert "train-labels-idx1-ubyte[" not in message  # present, so not reported missing
    assert "--data-dir" in message and "NEUROTWIN_DATA" in message


def test_failed_download_reports_missing_files(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROTWIN_OFFLINE", raising=False)
    monkeypatch.delenv("NEUROTWIN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def unreachable(url, dest, md5, timeout=10.0):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(mnist, "download_file", unreachable)
    with pytest.raises(DataError, match=r"fashion_mnist: missing .*cache/neurotwin/fashion_mnist"):
        tasks.load("fashion_mnist")


def test_download_fills_the_cache(tmp_path, monkeypatch):
    monkeypatch.delenv("NEUROTWIN_OFFLINE", raising=False)
    monkeypatch.delenv("NEUROTWIN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    arrays = fake_mnist(tmp_path / "mirror")
    fetched = []

    def from_mirror(url, dest, md5, timeout=10.0):
        fetched.append(url.rsplit("/", 1)[1])
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes((tmp_path / "mirror" / dest.name).read_bytes())

    monkeypatch.setattr(mnist, "download_file", from_mirror)
    task = tasks.load("mnist")
    assert sorted(fetched) == sorted(f"{s}.gz" for s in FILES)
    assert (tmp_path / "cache" / "neurotwin" / "mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    np.testing.assert_array_equal(task.y_train, arrays["train-labels-idx1-ubyte"])


def test_download_file_checks_md5_and_leaves_nothing_behind(tmp_path):
    payload = b"not really an idx file"
    src = tmp_path / "src.gz"
    src.write_bytes(payload)
    dest = tmp_path / "out" / "file.gz"
    with pytest.raises(DataError, match="does not match"):
        mnist.download_file(src.as_uri(), dest, "0" * 32)
    assert list((tmp_path / "out").iterdir()) == []
    mnist.download_file(src.as_uri(), dest, hashlib.md5(payload).hexdigest())
    assert dest.read_bytes() == payload
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["file.gz"]
