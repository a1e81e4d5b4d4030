"""digits28: the digits zoomed into MNIST's 28x28 frame, as the peer benchmarks build them."""

import numpy as np
from scipy.ndimage import zoom
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from neurotwin import tasks


def peer_data(seed):
    """shared/peers/w2_sg_snn_training.py's data(), lines 26-30, without the torch tensors."""
    d = load_digits()
    imgs = np.zeros((len(d.images), 28, 28), np.float32)
    imgs[:, 4:24, 4:24] = np.clip(
        np.stack([zoom(im / 16.0, 2.5, order=1) for im in d.images]), 0, 1
    )
    return train_test_split(
        imgs.reshape(len(imgs), -1), d.target, test_size=0.25, stratify=d.target, random_state=seed
    )


def test_digits28_matches_the_peer_construction_and_split():
    task = tasks.load("digits28", seed=0)
    X_train, X_test, y_train, y_test = peer_data(0)
    for i in (0, 1, 100, 1346):
        np.testing.assert_array_equal(task.X_train[i], X_train[i].astype(np.float64))
    np.testing.assert_array_equal(task.X_test, X_test.astype(np.float64))
    np.testing.assert_array_equal(task.y_train, y_train)
    np.testing.assert_array_equal(task.y_test, y_test)


def test_digits28_shape_range_and_classes():
    task = tasks.load("digits28", seed=2)
    assert task.n_train + task.n_test == 1797 and task.n_test == 450
    assert task.n_classes == 10 and task.class_names == [str(d) for d in range(10)]
    assert task.input_shape == (28, 28) and task.n_features == 784
    assert task.X_train.dtype == np.float64 and task.y_train.dtype == np.int64
    assert task.X_train.min() == 0.0 and task.X_train.max() == 1.0
    images = task.X_train.reshape(-1, 28, 28)
    # the 4-pixel margin around the 20x20 zoomed digit stays empty
    assert not images[:, :4].any() and not images[:, 24:].any()
    assert not images[:, :, :4].any() and not images[:, :, 24:].any()
    assert task.feature_names[29] == "pixel_1_1" and not task.fixed_split
    assert "digits28" in tasks.available() and "28x28" in tasks.DESCRIPTIONS["digits28"]
