"""The explicit backprop engine: layers, losses, optimisers and feedback pathways written out as
equations over plain tensors (no autograd), so a pathway other than backprop can be swapped in.

- :mod:`~neurotwin.artificial.engine.activations`: f(z) and f′(z).
- :mod:`~neurotwin.artificial.engine.losses`: L and the per-sample error ∂ℓ_n/∂ŷ_n.
- :mod:`~neurotwin.artificial.engine.layers`: a dense layer on ``Synapses``, forward and backward.
- :mod:`~neurotwin.artificial.engine.feedback`: backprop, feedback alignment, direct feedback
  alignment and sign symmetry, behind one interface.
- :mod:`~neurotwin.artificial.engine.optimisers`: SGD, momentum, Nesterov, Adam.
- :mod:`~neurotwin.artificial.engine.network`: the chain of layers and one pathway.
- :mod:`~neurotwin.artificial.engine.gradcheck`: central differences and relative error, for
  checking any hand-written gradient.
"""

from neurotwin.artificial.engine.activations import ACTIVATIONS, Activation, get_activation
from neurotwin.artificial.engine.feedback import (
    PATHWAYS,
    Backprop,
    DirectFeedbackAlignment,
    FeedbackAlignment,
    FeedbackPathway,
    SignSymmetry,
    make_pathway,
)
from neurotwin.artificial.engine.gradcheck import numerical_gradient, relative_error
from neurotwin.artificial.engine.layers import Dense, LayerGrads, Trace
from neurotwin.artificial.engine.losses import LOSSES, Loss, get_loss, log_sum_exp
from neurotwin.artificial.engine.network import Network
from neurotwin.artificial.engine.optimisers import OPTIMISERS, SGD, Adam, Optimiser, make_optimiser

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMISERS",
    "PATHWAYS",
    "SGD",
    "Activation",
    "Adam",
    "Backprop",
    "Dense",
    "DirectFeedbackAlignment",
    "FeedbackAlignment",
    "FeedbackPathway",
    "LayerGrads",
    "Loss",
    "Network",
    "Optimiser",
    "SignSymmetry",
    "Trace",
    "get_activation",
    "get_loss",
    "log_sum_exp",
    "make_optimiser",
    "make_pathway",
    "numerical_gradient",
    "relative_error",
]
