"""Datasets shipped with scikit-learn (no download): digits, digits28, breast_cancer, diabetes,
iris, wine, each registered by name.

Arrays are the raw values scikit-learn ships (diabetes unscaled, ``scaled=False``); scaling is the
learner's job, fitted on the training part only. ``digits28`` is the one derived dataset: the
digits zoomed into MNIST's 28x28 frame (see :func:`zoom_digits_28`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy
import sklearn
from scipy import ndimage
from sklearn import datasets

from neurotwin.tasks.arrays import pixel_names
from neurotwin.tasks.base import Task
from neurotwin.tasks.registry import register
from neurotwin.tasks.split import split_fields


@dataclass(frozen=True)
class Bundled:
    """How to load one bundled dataset.

    ``images``, when given, turns the scikit-learn bunch into ``(n, H, W)`` images that replace
    its ``data`` (flattened, with ``input_shape`` ``(H, W)`` and ``pixel_<row>_<col>`` features).
    """

    loader: Callable[..., Any]
    kind: str
    description: str
    input_shape: tuple[int, ...] | None = None  # None: (n_features,)
    options: tuple[tuple[str, Any], ...] = ()
    images: Callable[[Any], np.ndarray] | None = None
    positive: str | None = None  # the class diagnosis metrics call positive (None: the default)


def zoom_digits_28(bunch: Any) -> np.ndarray:
    """The 8x8 digits (0..16) as 28x28 float32 images in [0, 1], shape ``(n, 28, 28)``.

    Each image is divided by 16, zoomed ×2.5 to 20x20 by linear spline interpolation
    (``scipy.ndimage.zoom(order=1)``), clipped to [0, 1] and centred with a 4-pixel margin, as
    MNIST centres its 20x20 digits in a 28x28 frame — built exactly as the peer benchmarks build
    their MNIST-shaped input (``shared/peers/w2_sg_snn_training.py``).
    """
    images = np.zeros((len(bunch.images), 28, 28), np.float32)
    zoomed = [ndimage.zoom(image / 16.0, 2.5, order=1) for image in bunch.images]
    images[:, 4:24, 4:24] = np.clip(np.stack(zoomed), 0, 1)
    return images


BUNDLED: dict[str, Bundled] = {
    "digits": Bundled(
        datasets.load_digits,
        "classification",
        "8x8 handwritten digits, 1797 images in 10 classes (UCI optical digits)",
        input_shape=(8, 8),
    ),
    "digits28": Bundled(
        datasets.load_digits,
        "classification",
        "digits zoomed x2.5 into 28x28 (pixel values in [0, 1]): the MNIST-shaped task, "
        "no download",
        images=zoom_digits_28,
    ),
    "breast_cancer": Bundled(
        datasets.load_breast_cancer,
        "classification",
        "Wisconsin breast cancer, 569 tumours, 30 features, malignant vs benign",
        positive="malignant",  # label 0 in scikit-learn: the finding a screen must not miss
    ),
    "diabetes": Bundled(
        datasets.load_diabetes,
        "regression",
        "diabetes progression after one year (regression), 442 patients, 10 raw features",
        options=(("scaled", False),),
    ),
    "iris": Bundled(
        datasets.load_iris,
        "classification",
        "Fisher's iris, 150 flowers, 4 features, 3 species",
    ),
    "wine": Bundled(
        datasets.load_wine,
        "classification",
        "UCI wine, 178 wines, 13 chemical features, 3 cultivars",
    ),
}


def load_bundled(name: str, seed: int = 0) -> Task:
    """Load the bundled dataset ``name`` (a key of :data:`BUNDLED`) split by ``seed``.

    ``X`` is float64 ``(n, n_features)``; ``y`` is int64 class indices (classification) or float64
    (regression).
    """
    spec = BUNDLED[name]
    bunch = spec.loader(**dict(spec.options))
    source = {
        "name": name,
        "loader": f"sklearn.datasets.{spec.loader.__name__}",
        "options": dict(spec.options),
        "sklearn_version": sklearn.__version__,
    }
    if spec.images is not None:
        images = spec.images(bunch)
        X = images.reshape(len(images), -1).astype(np.float64)
        input_shape = tuple(images.shape[1:])
        feature_names = pixel_names(input_shape)
        source |= {"images": spec.images.__name__, "scipy_version": scipy.__version__}
    else:
        X = np.asarray(bunch.data, dtype=np.float64)
        input_shape = spec.input_shape or (X.shape[1],)
        feature_names = [str(f) for f in getattr(bunch, "feature_names", [])]
        if len(feature_names) != X.shape[1]:
            feature_names = [f"x{i}" for i in range(X.shape[1])]
    if spec.kind == "classification":
        y = np.asarray(bunch.target, dtype=np.int64)
        class_names = [str(c) for c in bunch.target_names]
    else:
        y = np.asarray(bunch.target, dtype=np.float64)
        class_names = None
    return Task(
        **split_fields(
            name,
            spec.kind,
            X,
            y,
            seed=seed,
            feature_names=feature_names,
            class_names=class_names,
            input_shape=input_shape,
            source=source,
        ),
        positive_class=spec.positive,
    )


for _name, _spec in BUNDLED.items():
    register(_name, functools.partial(load_bundled, _name), _spec.description)
