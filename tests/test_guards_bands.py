"""Banded twins keep a value's within-band quantile read as a mid-rank: on tied data the upper rank (or the lower
rank) moves a value to another place of its target band."""

import numpy as np
import pandas as pd

from fairprobe.twins.bands import Bands


def test_tied_values_move_to_their_mid_rank_in_the_target_band():
    bands = Bands.build("age", [0, 40, 80])
    reference = pd.Series([20.0] * 4 + [30.0] * 4 + [41, 42, 43, 44, 45, 46, 47, 48])
    # 20 holds ranks 1-4 of the 8 values of [0, 40): its mid-rank quantile is 0.25, the 2nd of the 8 values of
    # [40, 80) (42); 30 holds ranks 5-8, quantile 0.75, the 6th (46). The upper rank would give 44 and 48, the
    # lower rank 41 (clipped) and 44.
    moved = bands.move(np.array([20.0, 30.0]), np.array([1, 1]), reference)
    assert moved.tolist() == [42.0, 46.0]
    # and back: 42 (rank 2 of 8, quantile 0.1875) lands on the 2nd value of [0, 40), 20; 47 (0.8125) on 30
    back = bands.move(np.array([42.0, 47.0]), np.array([0, 0]), reference)
    assert back.tolist() == [20.0, 30.0]


def test_a_band_without_data_interpolates_between_its_edges():
    bands = Bands.build("age", [0, 40, 80])
    reference = pd.Series([10.0, 20.0, 30.0, 35.0])  # nothing in [40, 80)
    moved = bands.move(np.array([20.0]), np.array([1]), reference)  # 20: ranks 2, quantile 0.375
    assert moved.tolist() == [40 + 0.375 * 40]


def test_the_target_value_is_the_first_whose_rank_reaches_the_quantile():
    bands = Bands.build("age", [0, 40, 80])
    reference = pd.Series([5.0, 10, 15, 20, 25] + [41, 42, 43, 44, 45, 46, 47, 48])
    # 44 is the 4th of 8 in [40, 80): mid-rank quantile 3.5 / 8 = 0.4375; of the 5 values of [0, 40) the first
    # whose rank reaches 0.4375 * 5 = 2.19 is the 3rd (15), not the 2nd (a rounded rank) nor the 4th.
    moved = bands.move(np.array([41.0, 44.0, 48.0]), np.array([0, 0, 0]), reference)
    assert moved.tolist() == [5.0, 15.0, 25.0]
