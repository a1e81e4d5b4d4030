"""Model folders: written whole, read as untrusted data and checked before anything is built.

A model folder (``Learner.save``) holds two files::

    MODEL_DIR/model.safetensors   weights and buffers (safetensors: tensors only, no code)
    MODEL_DIR/config.json         what the weights are: format, learner, config, sizes, checksums

``config.json`` (format version 2, JSON Schema ``model_config.schema.json`` shipped in the
package) records the learner, its variant and config, the task kind, ``n_features``/``n_outputs``,
``weights_sha256`` (SHA-256 of the bytes of model.safetensors), ``tensors`` (name → safetensors
dtype and shape) and ``config_sha256``: the SHA-256 of the document itself without that key, in
canonical form (:func:`config_digest`), so a changed value in the config (a flipped digit in a
hyper-parameter) is caught as surely as a changed weight. :func:`write_model_folder` removes an old config.json, writes the weights, then the
config, each atomically: a folder whose config.json exists is complete.

:func:`read_model_folder` trusts nothing, and checks in this order, each failure one
:class:`~neurotwin.errors.ModelFileError` naming the file and what is wrong:

1. the folder is a folder; config.json and model.safetensors are regular files in it (a symbolic
   link that leads out of the folder is refused);
2. config.json: at most :data:`MAX_CONFIG_BYTES`, UTF-8, JSON nested at most :data:`MAX_JSON_DEPTH`
   deep, without NaN/Infinity or repeated keys; its format version (none or 1: written by an
   earlier neurotwin, refused — those folders lack a checksum, re-run the comparison to rewrite
   them; a newer one: upgrade); then the schema, ``config_sha256``, and the task kind against
   :mod:`neurotwin.kinds`;
3. model.safetensors, before reading past its header: its size (at most ``max_bytes``), the 8-byte
   little-endian header length (within the file and at most :data:`MAX_HEADER_BYTES`), the header
   JSON, each tensor's dtype, shape and ``data_offsets`` (the tensors tile the data section
   exactly: no gap, no overlap, nothing out of range, each span = prod(shape) × itemsize), and the
   tensor names, dtypes and shapes against config.json's ``tensors``;
4. the SHA-256 of the file against ``weights_sha256`` (the bytes hashed are the bytes loaded);
5. only then the tensors are decoded (``safetensors.torch.load``).

Whether the learner's config describes a model of those shapes is the loader's part
(:meth:`neurotwin.learners.base.Learner.load`, which builds the model on the meta device first).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import math
import os
import re
import stat
from collections.abc import Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

import torch
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from neurotwin import kinds
from neurotwin.errors import ConfigError, ModelFileError
from neurotwin.io import atomic_write_bytes, atomic_write_json, plain

FORMAT_VERSION = 2
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
SCHEMA_FILE = "model_config.schema.json"
MAX_CONFIG_BYTES = 1 << 20  # 1 MiB
MAX_HEADER_BYTES = 4 << 20  # 4 MiB of safetensors header
MAX_WEIGHTS_BYTES = 4 << 30  # 4 GiB: the default bound on model.safetensors
MAX_JSON_DEPTH = 32
_MAX_MESSAGE = 200

#: safetensors dtype → (torch dtype name, bytes per element)
DTYPES: dict[str, tuple[str, int]] = {
    "BOOL": ("bool", 1),
    "U8": ("uint8", 1),
    "I8": ("int8", 1),
    "F8_E4M3": ("float8_e4m3fn", 1),
    "F8_E5M2": ("float8_e5m2", 1),
    "I16": ("int16", 2),
    "U16": ("uint16", 2),
    "F16": ("float16", 2),
    "BF16": ("bfloat16", 2),
    "I32": ("int32", 4),
    "U32": ("uint32", 4),
    "F32": ("float32", 4),
    "I64": ("int64", 8),
    "U64": ("uint64", 8),
    "F64": ("float64", 8),
}
_DTYPE_NAMES = {
    getattr(torch, name): key for key, (name, _) in DTYPES.items() if hasattr(torch, name)
}


# --- writing -------------------------------------------------------------------------------------


def dtype_name(dtype: torch.dtype) -> str:
    """The safetensors name of a torch dtype (``torch.float32`` → ``"F32"``)."""
    try:
        return _DTYPE_NAMES[dtype]
    except KeyError:
        raise ConfigError(f"a model file cannot hold tensors of dtype {dtype}") from None


def tensor_map(state: Mapping[str, torch.Tensor]) -> dict[str, dict[str, Any]]:
    """``{name: {"dtype": "F32", "shape": [...]}}`` of a state dict, as config.json records it."""
    return {
        name: {"dtype": dtype_name(t.dtype), "shape": list(t.shape)} for name, t in state.items()
    }


def write_model_folder(
    path: str | os.PathLike, meta: Mapping[str, Any], state: Mapping[str, torch.Tensor]
) -> Path:
    """Write ``state`` to ``path/model.safetensors`` and ``meta`` (the learner's identity: learner,
    variant, config, task_kind, n_features, n_outputs), with the format version, the checksum and
    the tensor map, to ``path/config.json``; return ``path``.

    The document is checked against the schema before anything is written, so what is written
    can be read back. An old config.json is removed first and the new one written last.
    """
    import neurotwin

    path = Path(path)
    config_path = path / CONFIG_FILE
    state = {name: t.detach().cpu().contiguous() for name, t in state.items()}
    weights = save_tensors(state)
    doc = plain(
        {
            "format_version": FORMAT_VERSION,
            "neurotwin_version": neurotwin.__version__,
            **meta,
            "weights_sha256": hashlib.sha256(weights).hexdigest(),
            "tensors": tensor_map(state),
        },
        what=str(config_path),
    )
    doc["config_sha256"] = config_digest(doc)
    problem = _schema_problem(doc)
    if problem:
        raise ModelFileError(f"{config_path}: cannot be written: {problem}")
    config_path.unlink(missing_ok=True)
    atomic_write_bytes(path / WEIGHTS_FILE, weights)
    atomic_write_json(config_path, doc)
    return path


# --- reading -------------------------------------------------------------------------------------


def read_model_folder(
    path: str | os.PathLike, *, max_bytes: int = MAX_WEIGHTS_BYTES
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """``(config, tensors)`` of a model folder, every check of the module docstring passed.

    ``config`` is the parsed config.json (``n_features`` and ``n_outputs`` as ints); ``tensors``
    the CPU tensors of model.safetensors. ``max_bytes`` bounds the size of model.safetensors.
    """
    folder = Path(path)
    root = _model_folder(folder)
    config = read_config(folder, root=root)
    weights_path = folder / WEIGHTS_FILE
    with _open_inside(weights_path, root, max_bytes, "(pass a larger max_bytes to load it)") as (
        f,
        size,
    ):
        head, header = _read_header(f, size, weights_path)
        entries = _check_entries(header, size - len(head), weights_path)
        _check_against_config(entries, config["tensors"], weights_path)
        data = f.read(size - len(head))
        if len(data) != size - len(head) or f.read(1):
            raise ModelFileError(f"{weights_path}: the file changed while it was read")
    blob = head + data
    digest = hashlib.sha256(blob).hexdigest()
    if digest != config["weights_sha256"]:
        raise ModelFileError(
            f"{weights_path}: SHA-256 {digest} differs from the {config['weights_sha256']} that "
            f"{CONFIG_FILE} records: the weights are corrupt or were changed after saving"
        )
    try:
        tensors = load_tensors(blob)
    except Exception as exc:  # the checks above should leave nothing for safetensors to refuse
        raise ModelFileError(f"{weights_path}: cannot be decoded: {exc}") from exc
    return config, tensors


def read_config(path: str | os.PathLike, *, root: Path | None = None) -> dict[str, Any]:
    """The checked config.json of the model folder ``path`` (steps 1–2 of the module docstring)."""
    folder = Path(path)
    root = _model_folder(folder) if root is None else root
    config_path = folder / CONFIG_FILE
    with _open_inside(config_path, root, MAX_CONFIG_BYTES, "for a model config") as (f, _):
        raw = f.read(MAX_CONFIG_BYTES + 1)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelFileError(f"{config_path}: grew past {MAX_CONFIG_BYTES} bytes while read")
    if not raw.strip():
        raise ModelFileError(f"{config_path}: is empty; the save that wrote it did not finish")
    doc = parse_json(raw, config_path)
    if not isinstance(doc, dict):
        raise ModelFileError(f"{config_path}: holds {_json_type(doc)}, not a JSON object")
    _check_format_version(doc, config_path)
    problem = _schema_problem(doc)
    if problem:
        raise ModelFileError(f"{config_path}: {problem}")
    if config_digest(doc) != doc["config_sha256"]:
        raise ModelFileError(
            f"{config_path}: its content does not match its config_sha256: the file is corrupt or "
            "was edited after saving; re-run the comparison to rewrite it"
        )
    try:
        kinds.get(doc["task_kind"])
    except ConfigError as exc:
        raise ModelFileError(f"{config_path}: {exc}") from None
    doc["n_features"], doc["n_outputs"] = int(doc["n_features"]), int(doc["n_outputs"])
    return doc


def config_digest(doc: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``doc`` without its ``config_sha256`` key, as canonical JSON: keys sorted,
    no spaces, ASCII only. Whitespace and key order may change; no value can."""
    rest = {k: v for k, v in doc.items() if k != "config_sha256"}
    text = json.dumps(
        rest, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def parse_json(raw: bytes, path: Path) -> Any:
    """Strict JSON of ``raw`` (UTF-8): nesting at most :data:`MAX_JSON_DEPTH` deep (checked before
    parsing), no NaN or Infinity, no repeated key in an object."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelFileError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if _nesting_exceeds(text, MAX_JSON_DEPTH):
        raise ModelFileError(f"{path}: JSON nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ModelFileError(f"{path}: JSON nested too deep to read") from None
    except ValueError as exc:
        raise ModelFileError(f"{path}: not valid JSON: {_short(str(exc))}") from None


def describe_mismatch(
    model_state: Mapping[str, torch.Tensor], tensors: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """The first difference between a model's state dict (names, dtypes, shapes; meta tensors
    will do) and a ``tensors`` map as config.json records it, in words; None when they agree."""
    for name, t in model_state.items():
        entry = tensors.get(name)
        if entry is None:
            return f"the model has tensor {name!r}, which the weights lack"
        want = (dtype_name(t.dtype), list(t.shape))
        have = (entry["dtype"], list(entry["shape"]))
        if want != have:
            return (
                f"tensor {name!r} is {want[0]} {want[1]} in the model, "
                f"{have[0]} {have[1]} in the weights"
            )
    for name in tensors:
        if name not in model_state:
            return f"the weights hold tensor {name!r}, which the model does not have"
    return None


# --- helpers -------------------------------------------------------------------------------------


def _model_folder(folder: Path) -> Path:
    """The resolved model folder; :class:`ModelFileError` when it is missing or not a folder."""
    if not folder.exists():
        raise ModelFileError(f"{folder}: no such model folder")
    if not folder.is_dir():
        raise ModelFileError(
            f"{folder}: is not a folder (a model folder holds {CONFIG_FILE} and {WEIGHTS_FILE})"
        )
    return folder.resolve()


@contextlib.contextmanager
def _open_inside(
    path: Path, root: Path, max_bytes: int, limit_note: str
) -> Iterator[tuple[BinaryIO, int]]:
    """``with _open_inside(path, root, max_bytes, note) as (f, size):`` ``path`` opened for binary
    reading, checked to be a regular file inside ``root`` (a symbolic link that leads elsewhere is
    refused) of at most ``max_bytes`` bytes (``note`` ends the message of a larger one)."""
    try:
        mode = os.lstat(path).st_mode
        target = path.resolve(strict=True) if stat.S_ISLNK(mode) else path
    except FileNotFoundError:
        raise ModelFileError(
            f"{path}: is missing; {path.parent} is not a saved neurotwin model"
        ) from None
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise ModelFileError(f"{path}: cannot be opened: {exc}") from None
    if target != path and not target.is_relative_to(root):
        raise ModelFileError(
            f"{path}: is a symbolic link to {target}, outside the model folder; refused"
        )
    # O_NOFOLLOW: a link swapped in after the check is refused; O_NONBLOCK: a FIFO cannot hang us
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(target, flags | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot be opened: {exc.strerror}") from None
    info = os.fstat(fd)  # before fdopen, which refuses a folder's descriptor
    problem = None
    if not stat.S_ISREG(info.st_mode):
        problem = "is not a regular file"
    elif info.st_size > max_bytes:
        problem = f"{info.st_size} bytes, more than the {max_bytes} allowed {limit_note}"
    if problem is not None:
        os.close(fd)
        raise ModelFileError(f"{path}: {problem}")
    with os.fdopen(fd, "rb") as f:
        yield f, info.st_size


def _check_format_version(doc: dict, path: Path) -> None:
    version = doc.get("format_version")
    if version is None or version == 1:
        if "learner" in doc:
            lacks = "the weights" if version is None else "its own content"
            raise ModelFileError(
                f"{path}: written by an earlier neurotwin (format {version or 0}), without a "
                f"checksum of {lacks}; re-run the comparison to rewrite it"
            )
        return  # not a model config at all: the schema says what is missing
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        writer = doc.get("neurotwin_version")
        by = f"neurotwin {_short(writer, 40)}, " if isinstance(writer, str) else ""
        raise ModelFileError(
            f"{path}: written by a newer neurotwin ({by}format {version}; this one reads format "
            f"{FORMAT_VERSION}); upgrade neurotwin to load it"
        )


def _read_header(f: BinaryIO, size: int, path: Path) -> tuple[bytes, dict]:
    """``(the first 8 + N bytes, the parsed header)`` of a safetensors file of ``size`` bytes."""
    if size < 8:
        raise ModelFileError(
            f"{path}: {size} bytes, too short for a safetensors file (an 8-byte header length, "
            "then the header)"
        )
    prefix = f.read(8)
    n = int.from_bytes(prefix, "little")
    if n > size - 8:
        raise ModelFileError(
            f"{path}: the header length {n} runs past the end of the file ({size} bytes)"
        )
    if n > MAX_HEADER_BYTES:
        raise ModelFileError(f"{path}: header of {n} bytes, more than {MAX_HEADER_BYTES} allowed")
    raw = f.read(n)
    if len(raw) != n:
        raise ModelFileError(f"{path}: the file changed while it was read")
    header = parse_json(raw, path)
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: the header holds {_json_type(header)}, not a JSON object")
    return prefix + raw, header


def _check_entries(header: dict, data_size: int, path: Path) -> dict[str, dict[str, Any]]:
    """``{name: {"dtype", "shape"}}`` of a safetensors header, checked to tile the data section
    of ``data_size`` bytes exactly (span of each = prod(shape) × itemsize)."""
    entries: dict[str, dict[str, Any]] = {}
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                raise ModelFileError(f"{path}: __metadata__ must map names to strings")
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ModelFileError(
                f"{path}: tensor {name!r} must have exactly dtype, shape and data_offsets"
            )
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in DTYPES:
            raise ModelFileError(
                f"{path}: tensor {name!r} has unknown dtype {_short(repr(dtype), 40)}; "
                f"known: {', '.join(DTYPES)}"
            )
        if not (isinstance(shape, list) and all(_is_size(d) for d in shape)):
            raise ModelFileError(f"{path}: tensor {name!r}: shape must be a list of sizes >= 0")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_size, offsets))):
            raise ModelFileError(
                f"{path}: tensor {name!r}: data_offsets must be two byte offsets [begin, end]"
            )
        begin, end = offsets
        n_bytes = math.prod(shape) * DTYPES[dtype][1]
        if end < begin or end > data_size:
            raise ModelFileError(
                f"{path}: tensor {name!r}: data_offsets [{begin}, {end}] lie outside the "
                f"{data_size}-byte data section"
            )
        if end - begin != n_bytes:
            raise ModelFileError(
                f"{path}: tensor {name!r} ({dtype} {shape}) needs {n_bytes} bytes, its "
                f"data_offsets span {end - begin}"
            )
        spans.append((begin, end, name))
        entries[name] = {"dtype": dtype, "shape": shape}
    position = 0
    for begin, end, name in sorted(spans):
        if begin < position:
            raise ModelFileError(f"{path}: tensor {name!r} overlaps the tensor before it")
        if begin > position:
            raise ModelFileError(f"{path}: {begin - position} unused bytes before tensor {name!r}")
        position = end
    if position != data_size:
        raise ModelFileError(f"{path}: {data_size - position} unused bytes after the last tensor")
    return entries


def _check_against_config(entries: dict, tensors: Mapping[str, Any], path: Path) -> None:
    for name in tensors:
        if name not in entries:
            raise ModelFileError(f"{path}: tensor {name!r}, listed in {CONFIG_FILE}, is missing")
    for name, entry in entries.items():
        listed = tensors.get(name)
        if listed is None:
            raise ModelFileError(
                f"{path}: holds tensor {name!r}, which {CONFIG_FILE} does not list"
            )
        if entry["dtype"] != listed["dtype"] or entry["shape"] != list(listed["shape"]):
            raise ModelFileError(
                f"{path}: tensor {name!r} is {entry['dtype']} {entry['shape']}, {CONFIG_FILE} "
                f"says {listed['dtype']} {listed['shape']}"
            )


@functools.lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    schema = json.loads(resources.files("neurotwin").joinpath(SCHEMA_FILE).read_text("utf-8"))
    return Draft202012Validator(schema)


def _schema_problem(doc: Any) -> str | None:
    """The most relevant schema violation of ``doc``, in one line, or None."""
    error = best_match(_validator().iter_errors(doc))
    if error is None:
        return None
    return f"invalid at {error.json_path}: {_short(' '.join(error.message.split()))}"


_JSON_SPECIAL = re.compile(r'[\\"\[\]{}]')


def _nesting_exceeds(text: str, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (a scan, no recursion)."""
    depth, in_string, skip = 0, False, -1
    for match in _JSON_SPECIAL.finditer(text):
        i, c = match.start(), match.group()
        if i == skip:
            continue
        if in_string:
            if c == "\\":
                skip = i + 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            if depth > limit:
                return True
        elif c in "]}":
            depth -= 1
    return False


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for key, value in pairs:
        if key in doc:
            raise ValueError(f"key {_short(repr(key), 60)} appears twice in one object")
        doc[key] = value
    return doc


def _is_size(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _short(text: str, limit: int = _MAX_MESSAGE) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
