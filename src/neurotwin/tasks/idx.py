"""A reader for the IDX format of the MNIST family (LeCun et al., 1998).

Layout (all integers big-endian)::

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
                0x0E float64
    byte  3     number of dimensions d
    4 * d bytes the size of each dimension (uint32)
    the data,   prod(sizes) elements in C order

so the magic number ``int(bytes 0-3)`` is 2051 (0x0803) for uint8 images ``(n, rows, cols)`` and
2049 (0x0801) for uint8 labels ``(n,)``. Files may be gzip-compressed (name ending ``.gz``).
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from neurotwin.errors import DataError

#: IDX element-type code -> big-endian numpy dtype.
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MAGIC_IMAGES = 2051
MAGIC_LABELS = 2049


def read_bytes(path: str | Path) -> bytes:
    """The content of ``path``, decompressed when its name ends in ``.gz``."""
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(
            f"{path}: cannot read the file ({exc}); it is corrupt or truncated — delete it and "
            f"download it again"
        ) from None


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Parse the IDX file at ``path`` (raw or ``.gz``) into an array of the shape its header gives.

    The header is validated: zero leading bytes, a known element type, the magic number when
    ``expected_magic`` is given, and a data length equal to ``prod(sizes) * itemsize``. Any
    mismatch raises :class:`DataError` naming the file. The array has native byte order.
    """
    path = Path(path)
    data = read_bytes(path)
    if len(data) < 4:
        raise DataError(
            f"{path}: {len(data)} bytes is too short for an IDX header (4 bytes at least)"
        )
    magic = int.from_bytes(data[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise DataError(
            f"{path}: magic number {magic} is not {expected_magic} "
            f"({_describe_magic(expected_magic)}); the file is corrupt or not that kind of IDX file"
        )
    type_code, ndim = data[2], data[3]
    if data[0] != 0 or data[1] != 0 or type_code not in IDX_DTYPES or ndim == 0:
        raise DataError(
            f"{path}: magic number {magic} is not an IDX header (expected 0x00 0x00, a type code "
            f"in {[hex(c) for c in IDX_DTYPES]}, and at least one dimension); the file is corrupt"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(f"{path}: truncated header ({len(data)} bytes, {header_len} needed)")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "has extra bytes"
        raise DataError(
            f"{path}: file {what}: header gives shape {shape} = {expected} data bytes but the file "
            f"holds {actual}; delete it and download it again"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def _describe_magic(magic: int) -> str:
    type_code, ndim = (magic >> 8) & 0xFF, magic & 0xFF
    dtype = IDX_DTYPES.get(type_code)
    return f"IDX {dtype.name if dtype is not None else hex(type_code)}, {ndim} dims"
