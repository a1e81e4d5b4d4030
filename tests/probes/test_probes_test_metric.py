"""The test_metric probe: scores of the task kind, mean and std over evaluation draws."""

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error, r2_score

import neurotwin as nt
from neurotwin import probes
from neurotwin.learners.registry import get


def test_evaluate_accuracy_is_the_fraction_of_correct_predictions(fitted, wine):
    metrics, pred = probes.evaluate(fitted, wine, seed=0)
    assert metrics == {
        "test_accuracy": np.mean(pred == wine.y_test),
        "test_accuracy_std": 0.0,
    }
    np.testing.assert_array_equal(pred, fitted.predict(wine.X_test))


def test_regression_scores_match_scikit_learn():
    task = nt.tasks.load("diabetes", seed=0)
    learner = get("mlp")(quick=True)
    learner.fit(task, seed=0, epochs=3)
    metrics, pred = probes.evaluate(learner, task, seed=0)
    # no std of the MSE
    assert set(metrics) == {"test_r2", "test_r2_std", "test_mse", "test_mae", "test_mae_std"}
    assert metrics["test_mae"] == pytest.approx(np.mean(np.abs(task.y_test - pred)), rel=1e-12)
    assert metrics["test_r2"] == pytest.approx(r2_score(task.y_test, pred), rel=1e-12)
    assert metrics["test_mse"] == pytest.approx(mean_squared_error(task.y_test, pred), rel=1e-12)
    assert metrics["test_r2_std"] == 0.0


def test_stochastic_learner_reports_mean_and_std_over_three_draws(noisy):
    Noisy, task = noisy
    learner = Noisy(task.y_test)
    metrics, pred = probes.evaluate(learner, task, seed=0)
    assert learner.calls == 3
    assert metrics["test_accuracy"] == pytest.approx(0.5)  # mean of 1, 0.5, 0
    assert metrics["test_accuracy_std"] == pytest.approx(np.sqrt(((0.5**2) * 2) / 3))
    np.testing.assert_array_equal(pred, task.y_test)  # draw 0's predictions
    assert probes.evaluate(Noisy(task.y_test), task, seed=0, draws=1)[0]["test_accuracy"] == 1.0


def test_the_probe_sets_the_draw_zero_predictions_on_the_context(fitted_mlp, wine):
    ctx = probes.ProbeContext(fitted_mlp, wine, seed=0)
    out = probes.get("test_metric")(ctx)
    metrics, pred = probes.evaluate(fitted_mlp, wine, seed=0)
    assert out == metrics
    np.testing.assert_array_equal(ctx.predictions, pred)
