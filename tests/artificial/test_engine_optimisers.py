"""Engine optimisers equal torch.optim's SGD, momentum, Nesterov and Adam step for step."""

import pytest
import torch

from neurotwin.artificial.engine import OPTIMISERS, SGD, Adam, make_optimiser
from neurotwin.errors import ConfigError

STEPS = 20

CASES = {
    "sgd": (lambda: SGD(0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    "momentum": (
        lambda: SGD(0.05, momentum=0.9),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
    ),
    "nesterov": (
        lambda: SGD(0.05, momentum=0.8, nesterov=True),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    ),
    "adam": (lambda: Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_custom": (
        lambda: Adam(0.03, betas=(0.8, 0.99), eps=1e-6),
        lambda p: torch.optim.Adam(p, lr=0.03, betas=(0.8, 0.99), eps=1e-6),
    ),
}


def _gradient(p: torch.Tensor) -> torch.Tensor:
    """The gradient of a non-quadratic bowl at p, so each step depends on where the last one went."""
    return 2 * p + torch.sin(3 * p)


@pytest.mark.parametrize("case", CASES)
def test_optimiser_equals_torch_optim_step_for_step(case):
    ours_factory, torch_factory = CASES[case]
    gen = torch.Generator().manual_seed(0)
    start = [
        torch.randn(4, 3, generator=gen, dtype=torch.float64),
        torch.randn(5, generator=gen, dtype=torch.float64),
    ]
    ours = [p.clone() for p in start]
    theirs = [p.clone().requires_grad_() for p in start]
    opt, torch_opt = ours_factory(), torch_factory(theirs)
    for _ in range(STEPS):
        opt.step([(p, _gradient(p)) for p in ours])
        for p in theirs:
            p.grad = _gradient(p.detach())
        torch_opt.step()
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a, b.detach(), rtol=1e-12, atol=1e-14)
    assert not torch.equal(ours[0], start[0])


def test_make_optimiser_builds_each_name():
    assert make_optimiser("momentum", 0.1).momentum == 0.9
    assert make_optimiser("nesterov", 0.1, momentum=0.5).nesterov
    assert isinstance(make_optimiser("adam", 1e-3), Adam)
    assert set(OPTIMISERS) == {"sgd", "momentum", "nesterov", "adam"}


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: make_optimiser("rmsprop", 0.1), "unknown optimiser 'rmsprop'; choose one of: sgd"),
        (lambda: SGD(0.0), r"learning rate must be in \(0.0, inf\), got 0.0"),
        (lambda: Adam(-1e-3), "learning rate"),
        (lambda: SGD(float("nan")), "learning rate"),
        (lambda: SGD(0.1, momentum=1.0), "momentum"),
        (lambda: SGD(0.1, nesterov=True), "nesterov"),
        (lambda: Adam(0.1, betas=(0.9, 1.0)), "beta2"),
        (lambda: make_optimiser("sgd", 0.1, betas=(0.9, 0.9)), "optimiser 'sgd'"),
    ],
)
def test_bad_optimiser_settings_are_one_line_config_errors(call, match):
    with pytest.raises(ConfigError, match=match) as info:
        call()
    assert "\n" not in str(info.value)
