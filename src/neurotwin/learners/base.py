"""The :class:`Learner` contract that every model, artificial or brain-like, is adapted to.

A learner is a thin adapter: it holds one ``torch.nn.Module`` (``self.model``) that maps a raw input
batch ``(batch, n_features)`` to outputs (class scores, or the regression target in its own units),
with everything learned — encoder statistics, weights, readouts — as parameters or buffers of that
module. Probes (lesions, op counts) therefore need no model-specific code: they copy the learner,
edit the masks of :meth:`Learner.synapses`, and call :meth:`Learner.predict`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from neurotwin import kinds, model_files
from neurotwin.core.device import resolve_device
from neurotwin.core.history import History, Progress
from neurotwin.core.synapses import Synapses
from neurotwin.errors import ConfigError, DataError, ModelFileError, shown
from neurotwin.learners import registry

__all__ = ["History", "Learner", "Progress", "n_classes_of", "resolve_epochs"]


class Learner:
    """Base class of every learner. Subclasses set the class attributes and implement
    :meth:`_build`, :meth:`fit` and :meth:`partial_fit` (or derive from
    :class:`~neurotwin.learners.supervised.SupervisedLearner`, which implements the last two for
    a network trained by gradient descent).

    Class attributes:
        name: registry name (``neurotwin list``); description: one line.
        paradigm: ``"artificial"`` or ``"brain"``; rule: the learning rule (``"backprop"``…).
        encoding: the input encoding the model applies first (``"standard"`` or ``"unit"``); a
            variant may change it (``variant_encodings``), and the instance attribute
            ``encoding`` is the one its model uses.
        defaults: every hyperparameter with its default; quick: the overrides of ``--quick``.
        auto_defaults: for a default of ``"auto"``, how it is resolved (shown by ``list``).
        variants: the rows a comparison runs for this learner (``None`` is the learner itself;
            others are controls, e.g. ``"random_first_layer"``).
        variant_rules, variant_encodings: how a variant differs (its rule, its encoding);
            variant_notes: what each variant is for, in a few words (``neurotwin list``).
        controls: variant → the variant it is tested against (``{None: "random_first_layer"}``:
            the learner against its own control, the same network with the learning switched off).
        stochastic: whether :meth:`predict` draws random numbers (then it takes a generator).
        supported_kinds: the task kinds (:mod:`neurotwin.kinds`) the learner can be fitted on.
        extra_probes: names of registered probes (:mod:`neurotwin.probes`) this learner adds.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    paradigm: ClassVar[str] = "artificial"
    rule: ClassVar[str] = ""
    encoding: str = "standard"
    defaults: ClassVar[dict[str, Any]] = {}
    quick: ClassVar[dict[str, Any]] = {}
    auto_defaults: ClassVar[dict[str, str]] = {}
    variants: ClassVar[tuple[str | None, ...]] = (None,)
    variant_rules: ClassVar[dict[str, str]] = {}
    variant_encodings: ClassVar[dict[str, str]] = {}
    variant_notes: ClassVar[dict[str, str]] = {}
    controls: ClassVar[dict[str | None, str]] = {}
    stochastic: ClassVar[bool] = False
    supported_kinds: ClassVar[tuple[str, ...]] = ("classification", "regression")
    extra_probes: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, *, variant: str | None = None, quick: bool = False, device: str = "cpu", **config
    ) -> None:
        if variant not in self.variants:
            choices = ", ".join("none" if v is None else v for v in self.variants)
            raise ConfigError(f"{self.name}: unknown variant {variant!r}; choose one of: {choices}")
        unknown = sorted(set(config) - set(self.defaults))
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown option(s) {', '.join(unknown)}; "
                f"valid options: {', '.join(sorted(self.defaults))}"
            )
        self.variant = variant
        self.encoding = self.variant_encodings.get(variant, type(self).encoding)
        self.device = resolve_device(device)
        self.config: dict[str, Any] = {**self.defaults, **(self.quick if quick else {}), **config}
        self.model: nn.Module | None = None
        self.task_kind: str | None = None
        self.n_features: int | None = None
        self.n_outputs: int | None = None
        #: What the model was trained on, saved with it (``data`` in config.json): the feature
        #: and class names, the target column, the run seed. None until a run sets it.
        self.data_info: dict[str, Any] | None = None

    # -- identity -----------------------------------------------------------------------------
    @property
    def row_rule(self) -> str:
        """The learning rule of this row: a control variant may learn by another rule (or none)."""
        return self.variant_rules.get(self.variant, self.rule) if self.variant else self.rule

    @property
    def kind(self) -> kinds.TaskKind:
        """The :class:`~neurotwin.kinds.TaskKind` the learner was fitted for."""
        if self.task_kind is None:
            raise ConfigError(f"{self.name} is not fitted yet; call fit(task, seed=...) first")
        return kinds.get(self.task_kind)

    # -- to implement ---------------------------------------------------------------------------
    def _build(self, n_features: int, n_outputs: int, kind: str, seed: int) -> nn.Module:
        """The untrained model for ``n_features`` inputs and ``n_outputs`` outputs."""
        raise NotImplementedError

    def fit(
        self, task, *, seed: int, epochs: int | None = None, progress: Progress | None = None
    ) -> History:
        """Train on ``task``'s training part (its validation slice drawn from ``seed``)."""
        raise NotImplementedError

    def partial_fit(self, X, y, *, classes=None, task_id=None) -> History:
        """One incremental step on ``(X, y)``, continuing from the current state."""
        raise NotImplementedError

    def _after_load(self) -> None:
        """Called by :meth:`load` once the model holds its saved state (training state, caches)."""

    # -- shared behaviour -----------------------------------------------------------------------
    @classmethod
    def task_problem(cls, task) -> str | None:
        """Why this learner cannot be fitted on ``task``, in one line; None when it can. The
        default checks the task kind; a learner built for a shape (images, sequences) says more.
        """
        if task.kind not in cls.supported_kinds:
            return f"{cls.name} handles {' and '.join(cls.supported_kinds)} tasks, not {task.kind}"
        return None

    def _check_kind(self, task) -> None:
        problem = self.task_problem(task)
        if problem:
            raise ConfigError(problem)

    @staticmethod
    def _partial_fit_inputs(X, y) -> tuple[np.ndarray, bool]:
        """``(X as a float64 (n, features) array, whether X held images (n, H, W))``, checked to
        have one label per sample."""
        X = np.asarray(X, dtype=np.float64)
        image = X.ndim > 2
        X = X.reshape(len(X), -1)
        if len(X) == 0 or len(X) != len(y):
            raise DataError(
                f"partial_fit needs as many labels as samples, got {len(X)} and {len(y)}"
            )
        return X, image

    def _check_fitted(self) -> nn.Module:
        if self.model is None:
            raise ConfigError(f"{self.name} is not fitted yet; call fit(task, seed=...) first")
        return self.model

    def _as_tensor(self, X) -> torch.Tensor:
        X = np.asarray(X, dtype=np.float32)
        if X.ndim > 2:
            X = X.reshape(X.shape[0], -1)
        if X.ndim != 2 or (self.n_features is not None and X.shape[1] != self.n_features):
            raise DataError(
                f"{self.name}: input has shape {X.shape}, expected (n, {self.n_features})"
            )
        if not np.all(np.isfinite(X)):
            raise DataError(f"{self.name}: input contains NaN or infinite values")
        return torch.from_numpy(X).to(self.device)

    @torch.no_grad()
    def outputs(self, X, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Raw model outputs for ``X`` (class scores or regression values), shape (n, n_outputs)."""
        model = self._check_fitted()
        model.eval()
        x = self._as_tensor(X)
        return model(x, generator=generator) if self.stochastic else model(x)

    def predict(self, X, *, generator: torch.Generator | None = None) -> np.ndarray:
        """Class indices (class targets) or values (real-valued targets) for raw inputs ``X``."""
        out = self.outputs(X, generator=generator)
        if self.kind.target == "class":
            return out.argmax(1).cpu().numpy()
        return out[:, 0].double().cpu().numpy()

    def predict_proba(self, X, *, generator: torch.Generator | None = None) -> np.ndarray:
        """Class probabilities (n, n_classes), rows summing to 1, for a learner whose outputs are
        trained as a softmax over classes; others raise :class:`ConfigError` (use :meth:`predict`).
        """
        raise ConfigError(
            f"{self.name} has no class probabilities (its outputs are not trained as a softmax); "
            "use predict()"
        )

    def synapses(self) -> list[Synapses]:
        """Every learnable connection of the model, in forward order."""
        return [m for m in self._check_fitted().modules() if isinstance(m, Synapses)]

    def n_params(self) -> int:
        """Number of parameters (weights and biases, learned or fixed; encoder statistics and other
        buffers excluded)."""
        return sum(p.numel() for p in self._check_fitted().parameters())

    def fixed_parameters(self) -> list[nn.Parameter]:
        """The parameters this learner never changes (e.g. a control's random first layer)."""
        return []

    def parameter_counts(self) -> dict[str, int]:
        """``{"learned": …, "fixed": …}``: parameters split by whether training changes them."""
        fixed = {id(p) for p in self.fixed_parameters()}
        counts = {"learned": 0, "fixed": 0}
        for p in self._check_fitted().parameters():
            counts["fixed" if id(p) in fixed else "learned"] += p.numel()
        return counts

    def extra_metrics(self) -> dict[str, float]:
        """Learner-specific numbers for the results row (e.g. convergence of a Hebbian layer)."""
        return {}

    def figures(self, task) -> dict[str, bytes]:
        """Learner-specific PNG figures for the report, by name."""
        return {}

    # -- persistence ------------------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        """What config.json records about this learner (:func:`~neurotwin.model_files.
        write_model_folder` adds the format version, checksum and tensor map)."""
        return {
            "learner": self.name,
            "variant": self.variant,
            "config": self.config,
            "task_kind": self.task_kind,
            "n_features": self.n_features,
            "n_outputs": self.n_outputs,
            **({"data": self.data_info} if self.data_info is not None else {}),
        }

    def save(self, path: str | Path) -> Path:
        """Write ``path/model.safetensors`` (weights and buffers), then ``path/config.json`` (see
        :mod:`neurotwin.model_files`)."""
        model = self._check_fitted()
        return model_files.write_model_folder(path, self._meta(), model.state_dict())

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        device: str = "cpu",
        max_bytes: int = model_files.MAX_WEIGHTS_BYTES,
    ) -> Learner:
        """Load a learner written by :meth:`save` (the class is looked up in the registry).

        The folder is checked by :func:`~neurotwin.model_files.read_model_folder`; then the
        config: the learner must be registered and take the task kind and the config, and the
        model that config describes — built first on the meta device, which allocates nothing —
        must have exactly the stored tensors. Any failure is a
        :class:`~neurotwin.errors.ModelFileError` naming the file.
        """
        device = resolve_device(device)  # a bad device is the caller's error, not the folder's
        meta, state = model_files.read_model_folder(path, max_bytes=max_bytes)
        config_path = Path(path) / model_files.CONFIG_FILE
        name = meta["learner"]
        try:
            klass = registry.get(name) if cls is Learner else cls
        except ConfigError as exc:
            raise ModelFileError(f"{config_path}: {exc}") from None
        if klass.name != name:
            raise ModelFileError(f"{config_path}: holds a {name} model, not {klass.name}")
        kind = meta["task_kind"]
        if kind not in klass.supported_kinds:
            raise ModelFileError(
                f"{config_path}: task_kind {kind!r}, but {name} handles only "
                f"{' and '.join(klass.supported_kinds)} tasks"
            )
        config = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["config"].items()}
        try:
            learner = klass(variant=meta["variant"], device=device, **config)
        except ConfigError as exc:  # an unknown option or variant: the message names it
            raise ModelFileError(f"{config_path}: {exc}") from None
        except Exception as exc:  # a value of the wrong type or range (TypeError, ValueError…)
            raise ModelFileError(f"{config_path}: {name} cannot take its config: {exc}") from exc
        learner.task_kind = kind
        learner.n_features, learner.n_outputs = meta["n_features"], meta["n_outputs"]
        learner.model = learner._load_model(meta["tensors"], state, config_path)
        learner.data_info = meta.get("data")
        learner._after_load()
        return learner

    def _load_model(
        self, tensors: dict[str, Any], state: dict[str, torch.Tensor], config_path: Path
    ) -> nn.Module:
        """The model of this learner's config holding ``state``; its shapes are compared with
        ``tensors`` (config.json's map) before any memory is allocated for it."""
        expected = self._meta_state_dict(config_path)
        if expected is not None:
            self._check_tensors(expected, tensors, config_path)
        try:
            model = self._build(self.n_features, self.n_outputs, self.task_kind, 0)
        except Exception as exc:
            raise ModelFileError(
                f"{config_path}: the {self.name} model it describes cannot be built: {exc}"
            ) from exc
        if expected is None:
            self._check_tensors(model.state_dict(), tensors, config_path)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelFileError(f"{config_path}: the weights do not fit the model: {exc}") from exc
        return model.to(self.device)

    def _meta_state_dict(self, config_path: Path) -> dict[str, torch.Tensor] | None:
        """The state dict of the model :meth:`_build` makes, built on the meta device (names,
        dtypes and shapes; no memory); None if this learner's ``_build`` cannot run there."""
        device = self.device
        self.device = torch.device("meta")
        try:
            with torch.device("meta"):
                model = self._build(self.n_features, self.n_outputs, self.task_kind, 0)
            return dict(model.state_dict())
        except (ConfigError, KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise ModelFileError(
                f"{config_path}: the {self.name} model it describes cannot be built: {exc}"
            ) from exc
        except Exception:  # e.g. an explicit .cpu() in _build: check after the real build
            return None
        finally:
            self.device = device

    def _check_tensors(
        self, model_state: dict[str, torch.Tensor], tensors: dict[str, Any], config_path: Path
    ) -> None:
        problem = model_files.describe_mismatch(model_state, tensors)
        if problem:
            raise ModelFileError(
                f"{config_path}: the {self.name} model its config describes does not match "
                f"{model_files.WEIGHTS_FILE}: {problem}"
            )


def n_classes_of(classes) -> int:
    """The number of classes from ``classes``: a count (int or numpy integer) or the class labels."""
    if np.ndim(classes) == 0:
        n = int(classes)
    else:
        n = len(classes)
    if n < 2:
        raise ConfigError(f"classes must name at least 2 classes, got {classes!r}")
    return n


#: Most epochs any learner trains for (``--epochs``, and an ``epochs`` option).
MAX_EPOCHS = 100_000


def resolve_epochs(epochs: int | None, default: int) -> int:
    """``epochs`` if given, else the learner's ``default``: a whole number from 1 to
    :data:`MAX_EPOCHS`, given as a number or as its ASCII decimal text."""
    if epochs is None:
        return int(default)
    bad = ConfigError(
        f"--epochs must be a whole number from 1 to {MAX_EPOCHS}, got {shown(epochs)}"
    )
    value = epochs
    if isinstance(epochs, str):
        text = epochs.strip()
        # ASCII only: str.isdigit() also takes '²', '①' and '٣' (and int() reads '٣' as 3);
        # the length test keeps int() off texts too long to convert
        if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > len(str(MAX_EPOCHS)):
            raise bad
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer)):
        raise bad
    try:
        whole = float(value).is_integer()
    except OverflowError:  # float(10**400)
        raise bad from None
    if not whole or not 1 <= value <= MAX_EPOCHS:
        raise bad
    return int(value)
