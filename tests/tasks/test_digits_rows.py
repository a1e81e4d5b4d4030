"""digits_rows: the digits read row by row, a sequence task with digits' own split."""

import numpy as np
import pytest
from sklearn import datasets

import neurotwin as nt
from cli_helpers import call


@pytest.mark.parametrize("seed", [0, 3])
def test_split_equals_digits_split_for_the_same_seed(seed):
    rows, digits = nt.tasks.load("digits_rows", seed=seed), nt.tasks.load("digits", seed=seed)
    for part in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(rows, part), getattr(digits, part))
    assert rows.class_names == digits.class_names


def test_is_a_sequence_task_of_8_steps_of_8_pixels():
    task = nt.tasks.load("digits_rows", seed=0)
    assert task.kind == "sequence" and task.metric == "accuracy"
    assert task.input_shape == (8, 8)
    assert task.feature_names[:3] == ["t0_x0", "t0_x1", "t0_x2"]
    assert task.feature_names[-1] == "t7_x7" and len(task.feature_names) == 64
    assert task.n_classes == 10 and len(task.X_train) + len(task.X_test) == 1797


def test_step_t_holds_row_t_of_each_image_top_row_first():
    bunch = datasets.load_digits()
    task = nt.tasks.load("digits_rows", seed=0)
    sequences = task.X_test.reshape(-1, 8, 8)  # (n, steps, features)
    # find each test sample among the images, then compare step t with image row t
    index = {img.tobytes(): i for i, img in enumerate(bunch.images.astype(np.float64))}
    for seq in sequences[:20]:
        image = bunch.images[index[seq.tobytes()]]
        for t in range(8):
            np.testing.assert_array_equal(seq[t], image[t])


def test_registered_listed_and_described(capsys):
    assert "digits_rows" in nt.tasks.available()
    assert nt.tasks.available()[0] == "digits"
    assert "row by row" in nt.tasks.DESCRIPTIONS["digits_rows"]
    status, out, _ = call(capsys, "list")
    assert status == 0 and "digits_rows" in out
