"""The sequential design's schedule and its threshold, pinned: the looks the README promises, and the first
record count at which a spotless record passes, from the betting capital computed here by hand."""

import numpy as np
import pytest

from fairprobe import stats


def test_looks_are_10_30_80_180_then_every_100():
    assert stats.sequential_looks(1000).tolist() == [10, 30, 80, 180, *range(280, 1000, 100), 1000]
    assert stats.sequential_looks(50).tolist() == [10, 30, 50]


@pytest.mark.parametrize("bound, alpha", [(0.01, 0.05), (0.02, 0.05), (0.01, 0.01)])
def test_a_spotless_record_passes_exactly_where_the_capital_reaches_one_over_alpha(bound, alpha):
    # With every value 0, the capital against mean >= bound is sum_j w_j (1 + b_j bound / (1 - bound))^n
    # (Waudby-Smith & Ramdas' betting martingale with the fixed bets b_j and weights w_j).
    growth = 1 + stats.BETS * bound / (1 - bound)
    n = np.arange(1, 5000)
    capital = (stats.BET_WEIGHTS[None, :] * growth[None, :] ** n[:, None]).sum(axis=1)
    first = int(n[np.argmax(capital >= 1 / alpha)])
    assert stats.sequential_decide([0.0], bound, alpha, counts=[first]) == "pass"
    assert stats.sequential_decide([0.0], bound, alpha, counts=[first - 1]) == "inconclusive"
