"""Seeding helpers: every random choice takes a generator derived from the run seed.

A run seed and a purpose string (``"init"``, ``"split"``, ``"lesion"``…) give a child seed through a
stable hash, so adding a new random choice somewhere never shifts the numbers drawn elsewhere, and a
row computed alone (a resumed run) draws exactly what it would have drawn in a full run.
"""

from __future__ import annotations

import hashlib

import torch


def derive_seed(seed: int, *purpose: object) -> int:
    """A 63-bit seed derived from ``seed`` and any number of purpose labels (stable across runs)."""
    text = "/".join([str(int(seed)), *map(str, purpose)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little") >> 1


def torch_generator(
    seed: int, *purpose: object, device: str | torch.device = "cpu"
) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` seeded with :func:`derive_seed`."""
    gen = torch.Generator(device=device)
    gen.manual_seed(derive_seed(seed, *purpose))
    return gen
