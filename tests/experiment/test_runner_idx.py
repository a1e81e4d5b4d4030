"""End to end on MNIST-style IDX files read from --data-dir (made here from sklearn's digits)."""

from __future__ import annotations

import struct

import numpy as np
from sklearn.datasets import load_digits

import neurotwin as nt


def _idx(array: np.ndarray) -> bytes:
    """IDX encoding of a uint8 array, from the format description (magic 0x0008 + ndim, sizes)."""
    return (
        bytes([0, 0, 0x08, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + (array.astype(np.uint8).tobytes())
    )


def _digits_as_mnist(folder, n_train=400, n_test=150):
    X, y = load_digits(return_X_y=True)
    # 8×8 digits scaled ×3 onto a 28×28 canvas, 0..255 like MNIST
    images = np.zeros((len(X), 28, 28), dtype=np.uint8)
    images[:, 2:26, 2:26] = np.kron(X.reshape(-1, 8, 8), np.ones((3, 3))) * 255 / 16
    folder.mkdir(parents=True)
    for stem, array in {
        "train-images-idx3-ubyte": images[:n_train],
        "train-labels-idx1-ubyte": y[:n_train],
        "t10k-images-idx3-ubyte": images[n_train : n_train + n_test],
        "t10k-labels-idx1-ubyte": y[n_train : n_train + n_test],
    }.items():
        (folder / stem).write_bytes(_idx(array))


def test_compare_reads_mnist_from_data_dir_and_draws_28x28_receptive_fields(tmp_path):
    data = tmp_path / "data"
    _digits_as_mnist(data)
    out = tmp_path / "run"
    doc = nt.compare(
        "mnist", seeds=[0], quick=True, out=out, data_dir=data, show_progress=False, report=False
    )
    assert doc["task"]["input_shape"] == [28, 28]
    assert (doc["task"]["n_train"], doc["task"]["n_test"]) == (400, 150)
    by_model = {(r["model"], r["variant"]): r for r in doc["results"]}
    assert set(by_model) == {
        ("mlp", None),
        ("mlp", "unit_encoding"),
        ("hebbian", None),
        ("hebbian", "random_first_layer"),
    }
    # a real learning signal on the fixed test files: well above the 10 % of chance
    assert by_model[("mlp", None)]["metrics"]["test_accuracy"] > 0.6
    png = (out / by_model[("hebbian", None)]["figures"]["receptive_fields"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # 784 inputs × 200 hidden units: the dense count of the first layer alone
    assert (
        by_model[("hebbian", None)]["metrics"]["ops_per_inference"]["dense_mac"]
        == 784 * 200 + 200 * 10
    )
