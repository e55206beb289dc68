"""The diverging colour map, the sticky symmetric scale and the colour-bar legend."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor

from bpviz.views.colors import (
    BASE_FONT_PT,
    DIVERGING_MAP,
    NEUTRAL,
    ColorBarLegend,
    SymmetricScale,
    color_name,
    end_names,
    format_number,
    nice_ceil,
    scaled_font,
)


@pytest.mark.parametrize(
    ("x", "expected"),
    [(0.7, 1.0), (1.0, 1.0), (1.01, 2.0), (3.0, 5.0), (0.013, 0.02), (42.0, 50.0), (6e-5, 1e-4)],
)
def test_nice_ceil_rounds_up_to_1_2_5_steps(x, expected):
    assert nice_ceil(x) == pytest.approx(expected)


def test_nice_ceil_of_nothing_is_one():
    assert nice_ceil(0.0) == 1.0
    assert nice_ceil(float("nan")) == 1.0


def test_diverging_map_is_blue_for_negative_and_red_for_positive():
    assert end_names(pg.colormap.get(DIVERGING_MAP)) == ("blue", "red")
    assert SymmetricScale().end_names() == ("blue", "red")


def test_color_name_reads_hues():
    assert color_name((0.1, 0.2, 0.9)) == "blue"
    assert color_name((0.8, 0.05, 0.05)) == "red"
    assert color_name((0.5, 0.5, 0.5)) == "grey"


def test_first_update_chooses_a_nice_range_from_the_data():
    s = SymmetricScale()
    assert s.update(np.array([0.3, -0.42]))
    assert s.range == 0.5


def test_range_grows_at_once_and_shrinks_only_after_a_while():
    s = SymmetricScale(patience=5)
    s.update(np.array([0.9]))
    assert s.range == 1.0
    s.update(np.array([-3.2]))
    assert s.range == 5.0  # grows immediately
    for _ in range(4):
        s.update(np.array([0.1]))
        assert s.range == 5.0  # much smaller, but not for long enough
    s.update(np.array([0.1]))
    assert s.range == 0.1  # shrunk to the recent peak, rounded up


def test_moderately_smaller_data_never_shrinks_the_range():
    s = SymmetricScale(patience=3)
    s.update(np.array([1.8]))
    for _ in range(20):
        s.update(np.array([1.0]))  # above shrink_ratio × range
    assert s.range == 2.0


def test_a_large_value_resets_the_shrink_countdown():
    s = SymmetricScale(patience=3)
    s.update(np.array([4.0]))
    s.update(np.array([0.1]))
    s.update(np.array([0.1]))
    s.update(np.array([3.0]))  # back up: countdown restarts
    s.update(np.array([0.1]))
    s.update(np.array([0.1]))
    assert s.range == 5.0


def test_update_ignores_none_nan_and_inf():
    s = SymmetricScale()
    s.update([None, np.array([np.nan, np.inf, -0.3]), np.array([])])
    assert s.range == 0.5
    assert not s.update([None])


def test_zero_maps_to_the_centre_and_the_range_to_the_ends():
    s = SymmetricScale()
    s.set_range(2.0)
    cmap = pg.colormap.get(DIVERGING_MAP)
    got = s.rgba(np.array([-2.0, 0.0, 2.0, 1.0]))
    want = cmap.map(np.array([0.0, 0.5, 1.0, 0.75]), mode="float")
    np.testing.assert_allclose(got[:, :3], np.asarray(want)[:, :3], atol=0.02)


def test_values_beyond_the_range_are_clamped():
    s = SymmetricScale()
    s.set_range(1.0)
    np.testing.assert_array_equal(s.rgba(np.array([7.0])), s.rgba(np.array([1.0])))
    np.testing.assert_array_equal(s.rgba(np.array([-7.0])), s.rgba(np.array([-1.0])))


def test_nan_is_neutral_grey():
    s = SymmetricScale()
    rgba = s.rgba(np.array([np.nan]))[0]
    assert QColor.fromRgbF(*rgba).name() == NEUTRAL.name()
    assert s.color(None).name() == NEUTRAL.name()
    assert s.levels(np.array([np.nan]))[0] == -1


def test_high_contrast_saturates_mid_values_but_keeps_zero_and_ends():
    s = SymmetricScale()
    s.set_range(1.0)
    plain = s.rgba(np.array([-1.0, 0.0, 0.3, 1.0]))
    s.set_high_contrast(True)
    assert s.high_contrast
    hc = s.rgba(np.array([-1.0, 0.0, 0.3, 1.0]))
    np.testing.assert_allclose(hc[[0, 1, 3]], plain[[0, 1, 3]])
    centre = plain[1, :3]
    assert np.linalg.norm(hc[2, :3] - centre) > np.linalg.norm(plain[2, :3] - centre) + 0.05


def test_qt_helpers_return_one_item_per_value():
    s = SymmetricScale()
    values = np.array([-0.5, 0.0, 0.5])
    assert len(s.qcolors(values)) == 3
    assert len(s.brushes(values)) == 3
    pens = s.pens(values, np.array([1.0, 2.0, 3.0]))
    assert [p.widthF() for p in pens] == [1.0, 2.0, 3.0]
    assert all(p.isCosmetic() for p in pens)


def test_format_number_uses_a_true_minus_and_a_dash_for_none():
    assert format_number(-0.5) == "−0.5"
    assert format_number(None) == "–"
    assert format_number(float("inf")) == "∞"
    assert format_number(float("nan")) == "NaN"


def test_fonts_are_never_below_the_base_size():
    assert scaled_font(1.0).pointSizeF() >= BASE_FONT_PT
    assert scaled_font(2.0).pointSizeF() == pytest.approx(2 * BASE_FONT_PT)


def test_legend_shows_title_range_and_what_the_ends_mean(qtbot):
    s = SymmetricScale()
    s.set_range(0.5)
    legend = ColorBarLegend(s, "θ (weight)", neutral_text="not computed yet")
    qtbot.addWidget(legend)
    legend.resize(400, legend.height())
    legend.show()
    assert legend.title() == "θ (weight)"
    assert legend.range_text() == "−0.5 … +0.5"
    assert legend.end_texts() == ("blue = negative", "red = positive")
    assert not legend.grab().isNull()
    h = legend.height()
    legend.set_font_scale(2.0)
    assert legend.height() > h


def test_a_held_scale_moves_only_to_keep_a_value_from_clipping():
    s = SymmetricScale(patience=2, headroom=1.25)
    s.update(np.array([1.0]))
    assert s.range == 2.0  # room above the data: 1.0 fills half of it
    for _ in range(5):
        assert not s.update(np.array([0.01]), hold=True)  # held: never shrinks ...
    assert not s.update(np.array([1.9]), hold=True)  # ... nor grows while it fits
    assert s.update(np.array([-3.0]), hold=True)  # would clip: widened at once
    assert s.range == 5.0
    assert not s.release()  # the walk's largest value, 3.0, still fits with room
    s.update(np.array([0.01]))
    s.update(np.array([0.01]))
    assert s.range == 0.02  # not held: shrinks after its patience


def test_release_counts_a_held_walk_as_one_update():
    s = SymmetricScale(patience=3)
    s.update(np.array([4.0]))
    for _ in range(2):
        for _ in range(10):
            s.update(np.array([0.1]), hold=True)
        s.release()
    assert s.range == 5.0  # two walks of small values: not yet patient enough
    s.update(np.array([0.1]), hold=True)
    assert s.release()
    assert s.range == 0.1


def test_fine_steps_with_headroom_keep_the_largest_value_well_coloured():
    s = SymmetricScale(headroom=1.25, fine=True)
    for peak in (0.3, 0.81, 1.0, 1.7, 4.2, 9.9):
        s.reset()
        s.update(np.array([peak]))
        assert 0.64 <= peak / s.range <= 0.8 + 1e-9


@pytest.mark.parametrize("tiny", [5e-324, 1e-320, 2.2e-308])
def test_a_vanished_delta_still_gets_a_positive_range(tiny):
    from bpviz.views.auto_range import nice_ceil_fine, nice_step

    assert nice_ceil_fine(tiny) >= tiny and nice_ceil_fine(tiny) > 0
    assert nice_step(tiny) > 0
    scale = SymmetricScale(fine=True)
    scale.update(np.array([tiny, -tiny]))
    with np.errstate(all="raise"):
        assert np.all(np.isfinite(scale.normalized(np.array([tiny, 0.0, -tiny]))))


def test_a_subnormal_peak_never_gives_a_zero_range():
    # θ decayed by L2 to the smallest double: the range must stay positive (no 0 division).
    scale = SymmetricScale(headroom=1.25, fine=True)
    scale.update(np.array([5e-324]))
    assert scale.range > 0
    with np.errstate(all="raise"):
        scale.levels(np.array([5e-324, -5e-324, 0.0]))
