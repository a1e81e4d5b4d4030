"""MNIST and Fashion-MNIST from the four standard IDX files, found in a folder or downloaded.

Where the files are looked for, in order: ``data_dir`` (when given; in it or its ``<name>``
subfolder), else ``$NEUROTWIN_DATA`` (likewise) and then the cache folder
``$XDG_CACHE_HOME/neurotwin/<name>`` (``~/.cache/neurotwin/<name>``). Missing files are downloaded
into ``data_dir/<name>`` or the cache, each ``.gz`` checked against its published MD5 and written
atomically; ``NEUROTWIN_OFFLINE=1`` skips the network. These datasets carry their own test set
(60 000 / 10 000), so the split does not depend on the seed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurotwin.errors import DataError
from neurotwin.io import atomic_file
from neurotwin.tasks.arrays import pixel_names
from neurotwin.tasks.base import Task
from neurotwin.tasks.files import sha256_of
from neurotwin.tasks.idx import MAGIC_IMAGES, MAGIC_LABELS, read_idx
from neurotwin.tasks.registry import register

#: Seconds to wait for a mirror before giving up (offline machines fail at once, not after minutes).
DOWNLOAD_TIMEOUT_S = 10.0
FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
IMAGE_SHAPE = (28, 28)


@dataclass(frozen=True)
class IdxDataset:
    """Where to get one IDX dataset and what its classes are called."""

    description: str
    mirrors: tuple[str, ...]
    md5: dict[str, str]  # of the .gz files
    class_names: tuple[str, ...]


IDX_DATASETS: dict[str, IdxDataset] = {
    "mnist": IdxDataset(
        "MNIST handwritten digits, 28x28, 60000 train / 10000 test (IDX files, downloaded once)",
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
        ),
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
        tuple(str(d) for d in range(10)),
    ),
    "fashion_mnist": IdxDataset(
        "Fashion-MNIST clothing images, 28x28, 10 classes, 60000 train / 10000 test (IDX files)",
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
        (
            "T-shirt/top",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
    ),
}


def cache_dir(name: str) -> Path:
    """``$XDG_CACHE_HOME/neurotwin/<name>``, or ``~/.cache/neurotwin/<name>``."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "neurotwin" / name


def candidate_dirs(name: str, data_dir: str | Path | None = None) -> list[Path]:
    """Folders searched for the IDX files, in order (see the module docstring)."""
    if data_dir is not None:
        root = Path(data_dir).expanduser()
        return [root / name, root]
    dirs = []
    env = os.environ.get("NEUROTWIN_DATA")
    if env:
        dirs += [Path(env).expanduser() / name, Path(env).expanduser()]
    return [*dirs, cache_dir(name)]


def find_file(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or ``folder/stem.gz``, whichever exists (raw first), else None."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def download_file(url: str, dest: Path, md5: str, timeout: float = DOWNLOAD_TIMEOUT_S) -> None:
    """Download ``url`` to ``dest`` atomically (:func:`neurotwin.io.atomic_file`), checking its MD5.

    A checksum mismatch discards the download and raises :class:`DataError`; network failures raise
    the ``urllib``/``OSError`` exception they come with. Either way ``dest`` is not written.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_file(dest) as out, urllib.request.urlopen(url, timeout=timeout) as response:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
        if digest.hexdigest() != md5:
            raise DataError(
                f"{url}: MD5 {digest.hexdigest()} does not match the published {md5}; the download "
                f"was removed — try again later or put the IDX files in {dest.parent} yourself"
            )


def _download_missing(name: str, folder: Path, missing: list[str]) -> None:
    """Fetch each missing ``<stem>.gz`` into ``folder``, trying the mirrors in order.

    A connection failure (no network) stops at once; an HTTP error moves on to the next mirror.
    """
    spec = IDX_DATASETS[name]
    for stem in missing:
        gz = f"{stem}.gz"
        errors = []
        for mirror in spec.mirrors:
            try:
                download_file(mirror + gz, folder / gz, spec.md5[gz])
                break
            except urllib.error.HTTPError as exc:
                errors.append(f"{mirror + gz}: HTTP {exc.code}")
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise OSError(f"cannot reach {mirror} ({reason})") from None
        else:
            raise OSError("; ".join(errors))


def locate(name: str, data_dir: str | Path | None = None) -> dict[str, Path]:
    """The four IDX files of ``name`` (stem -> path), downloading them if needed and allowed.

    Raises :class:`DataError` saying which files are missing, where they were looked for, and how
    to fix it, when they are neither found nor downloadable.
    """
    folders = candidate_dirs(name, data_dir)
    for folder in folders:
        found = {stem: find_file(folder, stem) for stem in FILES}
        if all(found.values()):
            return found  # type: ignore[return-value]
    dest = folders[0] if data_dir is not None else cache_dir(name)
    missing = [stem for stem in FILES if find_file(dest, stem) is None]
    if os.environ.get("NEUROTWIN_OFFLINE", "").strip() not in ("", "0"):
        reason = "NEUROTWIN_OFFLINE is set, so nothing was downloaded"
    else:
        try:
            _download_missing(name, dest, missing)
            return {stem: find_file(dest, stem) for stem in FILES}  # type: ignore[misc]
        except OSError as exc:
            reason = f"download failed: {exc}"
    looked = ", ".join(str(f) for f in folders)
    names = ", ".join(f"{stem}[.gz]" for stem in missing)
    raise DataError(
        f"{name}: missing {names} in {dest} (looked in {looked}); "
        f"{reason} — put the four IDX files (raw or .gz) in one of those folders, or pass "
        f"--data-dir DIR (data_dir=DIR) / set NEUROTWIN_DATA=DIR to a folder holding them"
    )


def read_split(
    images_path: Path, labels_path: Path, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(n, 784)`` float64 0..255 and labels ``(n,)`` int64, checked against each other."""
    images = read_idx(images_path, MAGIC_IMAGES)
    labels = read_idx(labels_path, MAGIC_LABELS)
    if images.shape[1:] != IMAGE_SHAPE:
        raise DataError(
            f"{images_path}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28"
        )
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{images_path}: {images.shape[0]} images but {labels_path.name} has "
            f"{labels.shape[0]} labels; the two files must come from the same set"
        )
    if labels.size and labels.max() >= n_classes:
        raise DataError(f"{labels_path}: label {labels.max()} is outside 0..{n_classes - 1}")
    return images.reshape(len(images), -1).astype(np.float64), labels.astype(np.int64)


def load_idx_dataset(name: str, seed: int = 0, data_dir: str | Path | None = None) -> Task:
    """Load ``mnist`` or ``fashion_mnist`` with its fixed 60 000 / 10 000 split.

    ``X`` is float64 ``(n, 784)`` with raw pixel values 0..255 (``input_shape`` (28, 28)); ``y`` is
    int64 ``0..9``. ``seed`` is recorded on the task but does not change the split.
    """
    spec = IDX_DATASETS[name]
    paths = locate(name, data_dir)
    n_classes = len(spec.class_names)
    X_train, y_train = read_split(
        paths["train-images-idx3-ubyte"], paths["train-labels-idx1-ubyte"], n_classes
    )
    X_test, y_test = read_split(
        paths["t10k-images-idx3-ubyte"], paths["t10k-labels-idx1-ubyte"], n_classes
    )
    return Task(
        name=name,
        kind="classification",
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        feature_names=pixel_names(IMAGE_SHAPE),
        class_names=list(spec.class_names),
        input_shape=IMAGE_SHAPE,
        seed=int(seed),
        source={
            "name": name,
            "split": "fixed (official train/test files)",
            "files": {p.name: sha256_of(p) for p in paths.values()},
        },
        fixed_split=True,
    )


for _name, _spec in IDX_DATASETS.items():
    register(_name, functools.partial(load_idx_dataset, _name), _spec.description)
