"""``linear``: softmax (logistic) regression for classes, linear regression for values — the field's
first example, on the explicit engine with no hidden layer.

For encoded inputs x (batch, n_features), weights W (k, n_features) and bias b (k,):

    z = x Wᵀ + b;   classes: p = softmax(z), L = −(1/N) Σ_n log p_{n, y_n};
                    values:  ŷ = z (the standardised target), L = (1/N) Σ_n (ŷ_n − y_n)²

plus the L2 penalty (λ₂/2) ‖W‖² (the bias is not penalised). The gradient ∂L/∂W = (ŷ − y)ᵀ x / N
+ λ₂ W is the delta rule (Widrow & Hoff, 1960), which is why the row's rule is ``delta_rule``:
with no hidden layer there is nothing to propagate back. Trained like every engine learner
(minibatch Adam, early stopping on the validation slice, see :mod:`neurotwin.learners.feedback`).

λ₂ is a fixed default, 1e-3, not tuned per task (set ``weight_decay`` to change it).
"""

from __future__ import annotations

from neurotwin.learners.feedback import EngineLearner
from neurotwin.learners.registry import register


@register
class LinearLearner(EngineLearner):
    """Softmax regression (classification) or linear regression (regression) by gradient descent."""

    name = "linear"
    description = "softmax (logistic) or linear regression, delta rule + Adam, L2, early stopping"
    paradigm = "artificial"
    rule = "delta_rule"
    pathway = "backprop"
    encoding = "standard"
    defaults = {
        "lr": 1e-2,
        "weight_decay": 1e-3,
        "batch_size": 32,
        "epochs": 200,
        "patience": 20,
    }
    quick = {"epochs": 15, "patience": 5}
