"""Err per sample: the one scale every loss curve is drawn on, and its wording."""

from __future__ import annotations

import math

import numpy as np

from bpviz.engine.per_sample import (
    axis_label,
    curve_label,
    err_range_text,
    err_text,
    n_text,
    per_sample,
)


def test_per_sample_divides_a_sum_by_its_n_and_leaves_a_mean_alone():
    assert per_sample(16.0, 160) == 0.1
    np.testing.assert_array_equal(
        per_sample(np.array([4.0, 1.0]), np.array([32.0, 4.0])), [0.125, 0.25]
    )
    assert per_sample(0.05, 8, mean=True) == 0.05
    assert math.isnan(per_sample(3.0, 0))  # no test set: no value, no warning


def test_err_text_gives_the_sum_its_n_and_the_value_per_sample():
    assert err_text("training", 19.7, 160) == "training Err/N = 19.7/160 = 0.1231"
    assert err_text("batch", 0.52, 1) == "batch Err = 0.52 (N = 1)"  # Err/N is Err
    assert err_text("test", 0.05, 40, mean=True) == "test Err = 0.05 (mean over N = 40)"
    assert err_text("", 2.0, 4) == "Err/N = 2/4 = 0.5"


def test_ranges_keep_each_quantitys_own_min_and_max():
    text = err_range_text("batch", (0.4, 0.9), (4, 32), (0.05, 0.11))
    assert text == "batch Err/N from 0.05 to 0.11 (Err from 0.4 to 0.9, N = 4–32)"
    assert err_range_text("training", (1.0, 2.0), (1, 1), (1.0, 2.0)) == (
        "training Err from 1 to 2 (N = 1)"
    )


def test_labels_name_each_n():
    assert n_text(10) == "N = 10" and n_text(4, 32) == "N = 4–32" and n_text(math.nan) == "N = ?"
    assert curve_label("train", 160) == "training set, N = 160"
    assert curve_label("batch", 4, 32) == "batch (per iteration), N = 4–32"
    assert curve_label("test", 40, compact=True) == "test N=40"
    assert curve_label("test", None) == "test set"
    assert axis_label(False) == "Err / N (per sample)"
    assert axis_label(True) == "Err"
    assert axis_label(False, mean=True) == "Err (a mean over the samples)"
