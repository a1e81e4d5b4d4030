"""scikit-learn estimators over neurotwin learners.

:class:`NeuroTwinClassifier` and :class:`NeuroTwinRegressor` wrap any registered learner
(``neurotwin list``) as a scikit-learn estimator, so ``cross_val_score``, ``Pipeline``,
``GridSearchCV`` and ``sklearn.inspection.permutation_importance`` work on it::

    from sklearn.model_selection import GridSearchCV
    from neurotwin.sklearn import NeuroTwinClassifier

    clf = NeuroTwinClassifier("mlp", hidden=(32,), lr=3e-3, quick=True)
    GridSearchCV(clf, {"lr": [1e-3, 3e-3]}, cv=3).fit(X, y).best_params_

The wrappers are thin: they do not change the :class:`~neurotwin.learners.base.Learner`
contract, which stays task-shaped.

**Parameters.** Besides ``learner`` (the registered name), ``variant``, ``seed``, ``epochs``,
``quick`` and ``device``, every keyword argument is an option of the learner (``hidden`` and
``lr`` for ``mlp``, ``n_hidden`` and ``p`` for ``hebbian``…). The options appear in
``get_params()``, are set by ``set_params()`` (and so by ``GridSearchCV``'s grid and
``Pipeline``'s ``step__option`` names) and survive ``clone()``. As scikit-learn asks, nothing is
checked before ``fit``: an unknown learner, variant or option raises a one-line
:class:`~neurotwin.errors.ConfigError` there, naming the valid choices. ``epochs`` is passed to
the learner's ``fit`` (None: the learner's own default, or its quick preset's with
``quick=True``); it means what the learner's own ``epochs`` option means (``mlp``: the most
epochs of early-stopped training; ``hebbian``: the epochs of the unsupervised first layer).

**What fit trains on.** ``fit(X, y)`` trains on *all* of ``X``: scikit-learn's model selection
(``cross_val_score``, ``GridSearchCV``) draws the test folds itself. The task handed to the
learner is made by :meth:`~neurotwin.tasks.base.Task.from_arrays` with a *fixed*
split whose training part is the whole of ``X`` and whose test part is a one-sample placeholder
(the first sample), so ``from_arrays`` draws no 25 % test split and its checks (finite values of a
size the models can compute with, at least 2 classes) still apply. No learner's ``fit`` reads the
test part. As in every neurotwin run, the learner holds 10 % of what it is given out as its
validation slice for early stopping (stratified where every class has 2 samples, else not), so
``fit`` needs at least 2 samples.

**Inputs.** ``X`` is a 2-D numeric array (flatten images first); column names of a DataFrame
are kept in ``feature_names_in_`` and passed to the task. Classifier labels may be any values
(``np.unique(y)`` → ``classes_``; predictions are mapped back). Bad input raises
``ValueError`` (neurotwin's :class:`~neurotwin.errors.DataError` and
:class:`~neurotwin.errors.ConfigError` are ``ValueError`` subclasses).

**Fitted learners.** :meth:`NeuroTwinClassifier.from_learner` wraps an already fitted learner
(e.g. from :meth:`~neurotwin.learners.base.Learner.load`) without refitting or
copying it, e.g. for ``permutation_importance`` on a saved model.

**Determinism.** The same ``seed`` gives the same predictions (the split of the validation slice,
the initialisation and the minibatch order all derive from it; a stochastic learner predicts with
a fresh generator derived from it at every call).

**scikit-learn's estimator checks.** ``check_estimator`` passes for the ``mlp`` classifier,
the ``hebbian`` classifier and the ``mlp`` regressor (``tests/test_sklearn_wrappers.py``, with
quick settings), with one check skipped:

- ``check_methods_subset_invariance``: the models compute in float32 (PyTorch), and a one-row
  batch can differ from the full batch in the last float32 bit (~1e-7 relative: BLAS blocks a
  matrix product by the batch size), while the check compares the float64 outputs at 1e-7. The
  tests check the same invariance at float32 precision instead.

scikit-learn itself skips ``check_dataframe_column_names_consistency`` where pandas is not
installed and the array API check where ``SCIPY_ARRAY_API`` is not set. Learners that handle only
classification (``hebbian``) cannot be used by :class:`NeuroTwinRegressor`: its ``fit`` raises
ConfigError.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from neurotwin.core.seeding import torch_generator
from neurotwin.errors import ConfigError, shown
from neurotwin.learners import registry
from neurotwin.learners.base import History, Learner
from neurotwin.tasks.base import Task

__all__ = ["NeuroTwinClassifier", "NeuroTwinRegressor"]

#: The wrapper's own parameters; every other keyword is an option of the learner.
FIXED_PARAMS = ("learner", "variant", "seed", "epochs", "quick", "device")


class _NeuroTwinEstimator(BaseEstimator):
    """The parameters, ``fit`` and prediction path shared by the classifier and the regressor."""

    #: The task kind the estimator fits (``classification`` or ``regression``).
    _task_kind = ""
    #: The learner output the estimator expects: ``"class"`` or ``"value"`` (neurotwin.kinds).
    _target = ""

    def __init__(
        self,
        learner: str = "mlp",
        *,
        variant: str | None = None,
        seed: int = 0,
        epochs: int | None = None,
        quick: bool = False,
        device: str = "cpu",
        **options: Any,
    ) -> None:
        self.learner = learner
        self.variant = variant
        self.seed = seed
        self.epochs = epochs
        self.quick = quick
        self.device = device
        # private, so scikit-learn's checks do not take the options for attributes set in
        # __init__; get_params/set_params expose them as parameters
        self._options = dict(options)

    # -- parameters --------------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The estimator's parameters: the fixed ones (``learner``, ``variant``, ``seed``,
        ``epochs``, ``quick``, ``device``) and the learner options it was given.

        ``deep`` is accepted for scikit-learn's API; the estimator holds no sub-estimators.
        """
        params = super().get_params(deep=False)
        params.update(self._options)
        return params

    def set_params(self, **params: Any) -> _NeuroTwinEstimator:
        """Set fixed parameters or learner options (checked at ``fit``, as scikit-learn asks);
        returns the estimator. A nested name (``a__b``) raises ``ValueError``: the estimator
        holds no sub-estimators."""
        for key, value in params.items():
            if "__" in key:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}: it holds no nested "
                    f"estimators; its parameters are {', '.join(FIXED_PARAMS)} and the options "
                    f"of the learner"
                )
            if key in FIXED_PARAMS:
                setattr(self, key, value)
            else:
                self._options[key] = value
        return self

    # -- fitting ---------------------------------------------------------------------------------
    def _learner_class(self) -> type:
        if not isinstance(self.learner, str):
            raise ConfigError(
                f"learner must be a registered name, got {shown(self.learner)}; choose from: "
                f"{', '.join(registry.available())} (use from_learner() for a fitted learner)"
            )
        return registry.get(self.learner)

    def _new_learner(self) -> Learner:
        """A fresh learner of this estimator's parameters (ConfigError for an unknown name,
        variant or option, naming the valid ones)."""
        klass = self._learner_class()
        return klass(variant=self.variant, quick=self.quick, device=self.device, **self._options)

    def _fit_learner(self, X: np.ndarray, y: np.ndarray, class_names: list[str] | None) -> None:
        """Fit a new learner on all of ``X`` (see the module docstring for the task it gets)."""
        learner = self._new_learner()  # options are checked before any work on the data
        if len(X) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 samples, got n_samples={len(X)}: the "
                f"learner holds 10 % of them (at least 1) out for its validation slice"
            )
        names = getattr(self, "feature_names_in_", None)
        task = Task.from_arrays(
            X,
            y,
            X[:1],  # the placeholder test part (no learner's fit reads it)
            y[:1],
            kind=self._task_kind,
            seed=self.seed,
            name=type(self).__name__,
            class_names=class_names,
            feature_names=None if names is None else [str(n) for n in names],
            source={"name": "scikit-learn fit(X, y)"},
        )
        self.history_: History = learner.fit(task, seed=self.seed, epochs=self.epochs)
        self.learner_: Learner = learner

    # -- prediction ------------------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "learner_")

    def _checked_input(self, X) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=np.float64)

    def _generator(self) -> torch.Generator | None:
        """A fresh generator derived from ``seed`` for a stochastic learner (None otherwise), so
        every prediction call draws the same noise."""
        learner = self.learner_
        if not learner.stochastic:
            return None
        return torch_generator(self.seed, learner.name, "sklearn_predict", device=learner.device)

    # -- wrapping a fitted learner ---------------------------------------------------------------
    @classmethod
    def _wrap(cls, learner: Learner) -> _NeuroTwinEstimator:
        if not isinstance(learner, Learner):
            raise ConfigError(
                f"from_learner takes a fitted neurotwin Learner, got a {type(learner).__name__}"
            )
        kind = learner.kind  # ConfigError if the learner is not fitted
        if kind.target != cls._target:
            raise ConfigError(
                f"{cls.__name__}.from_learner: this {learner.name} was fitted on a {kind.name} "
                f"task; use "
                f"{'NeuroTwinRegressor' if kind.target == 'value' else 'NeuroTwinClassifier'}"
            )
        defaults = type(learner).defaults
        options = {
            k: v
            for k, v in learner.config.items()
            if k not in FIXED_PARAMS and (k not in defaults or v != defaults[k])
        }
        epochs = learner.config.get("epochs")
        if "epochs" not in defaults or epochs == defaults["epochs"]:
            epochs = None
        estimator = cls(
            learner.name,
            variant=learner.variant,
            epochs=epochs,
            device=str(learner.device),
            **options,
        )
        estimator.learner_ = learner  # no copy: the estimator predicts with this very learner
        estimator.n_features_in_ = int(learner.n_features)
        return estimator


class NeuroTwinClassifier(ClassifierMixin, _NeuroTwinEstimator):
    """A scikit-learn classifier over a registered neurotwin learner.

    Parameters:
        learner: the registered learner name (``neurotwin list``), e.g. ``"mlp"``, ``"hebbian"``.
        variant: the learner's variant (e.g. ``"random_first_layer"``), None for the learner.
        seed: the seed of the validation slice, the initialisation and the minibatch order.
        epochs: passed to the learner's ``fit`` (None: its default, or its quick preset's).
        quick: use the learner's quick preset (fewer epochs/units; for smoke tests).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.
        **options: the learner's own options (``hidden``, ``lr``… for ``mlp``), checked at fit.

    Attributes:
        classes_: set by ``fit``: the sorted distinct labels of ``y``.
        learner_: set by ``fit``: the fitted :class:`~neurotwin.learners.base.Learner`.
        history_: set by ``fit``: its training :class:`~neurotwin.core.history.History` (not
            set by :meth:`from_learner`).
        n_features_in_: set by ``fit``: the number of features of ``X``.
        feature_names_in_: set by ``fit`` when ``X`` is a DataFrame: its column names.
    """

    _task_kind = "classification"
    _target = "class"

    def fit(self, X, y) -> NeuroTwinClassifier:
        """Fit a new learner on all of ``(X, y)``; ``y`` may hold any labels (strings, numbers).

        Raises ``ValueError`` for bad input (NaN, one class, fewer than 2 samples…) and
        :class:`~neurotwin.errors.ConfigError` (a ``ValueError``) for an unknown learner,
        variant or option.
        """
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        self.classes_ = classes
        self._fit_learner(X, y_index.reshape(-1).astype(np.int64), [str(c) for c in classes])
        return self

    def predict(self, X) -> np.ndarray:
        """The predicted label (an element of ``classes_``) of each row of ``X``."""
        X = self._checked_input(X)
        return self.classes_[self.learner_.predict(X, generator=self._generator())]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n, len(classes_))``, float64, rows summing to 1, columns in
        the order of ``classes_`` (the learner's ``predict_proba``; a learner without
        probabilities raises :class:`~neurotwin.errors.ConfigError`)."""
        X = self._checked_input(X)
        return np.asarray(
            self.learner_.predict_proba(X, generator=self._generator()), dtype=np.float64
        )

    @classmethod
    def from_learner(cls, learner: Learner) -> NeuroTwinClassifier:
        """Wrap an already fitted classification learner without refitting or copying it.

        ``classes_`` is ``np.arange(learner.n_outputs)`` (the learner's class indices, as in a
        :class:`~neurotwin.tasks.base.Task`'s ``y``) and ``n_features_in_`` is
        ``learner.n_features``; the parameters are the learner's name, variant, device and the
        options where its config differs from the defaults, so a ``clone`` refits the same
        configuration.
        """
        estimator = cls._wrap(learner)
        estimator.classes_ = np.arange(int(learner.n_outputs))
        return estimator


class NeuroTwinRegressor(RegressorMixin, _NeuroTwinEstimator):
    """A scikit-learn regressor over a registered neurotwin learner (one real-valued target).

    Parameters: as :class:`NeuroTwinClassifier`'s. A learner that handles only classification
    (``hebbian``) raises :class:`~neurotwin.errors.ConfigError` at ``fit``.

    Its attributes after ``fit`` are those of :class:`NeuroTwinClassifier` but ``classes_``:
    ``learner_``, ``history_``, ``n_features_in_`` and, for a DataFrame, ``feature_names_in_``.
    """

    _task_kind = "regression"
    _target = "value"

    def fit(self, X, y) -> NeuroTwinRegressor:
        """Fit a new learner on all of ``(X, y)``, ``y`` a 1-D numeric target.

        Raises ``ValueError`` for bad input and :class:`~neurotwin.errors.ConfigError` for an
        unknown learner, variant or option, or a learner that does not regress.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self._fit_learner(X, np.asarray(y, dtype=np.float64), None)
        return self

    def predict(self, X) -> np.ndarray:
        """The predicted value (float64) of each row of ``X``."""
        X = self._checked_input(X)
        return np.asarray(self.learner_.predict(X, generator=self._generator()), dtype=np.float64)

    @classmethod
    def from_learner(cls, learner: Learner) -> NeuroTwinRegressor:
        """Wrap an already fitted regression learner without refitting or copying it
        (``n_features_in_`` = ``learner.n_features``; parameters as in
        :meth:`NeuroTwinClassifier.from_learner`)."""
        return cls._wrap(learner)
