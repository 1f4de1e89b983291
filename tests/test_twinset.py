"""TwinSet's two rules that every invariance statistic shares (issue #21, section 5): a record's value from its
twins (TwinSet.per_record: counts, the null floor, compare and the sequential looks read it) and which twins a
subset of records keeps, in what order (TwinSet.twin_rows: subset and the sequential design read it)."""

import numpy as np
import pandas as pd

from fairprobe.twins.base import TwinSet


def _twinset(k: int) -> TwinSet:
    # records 0..3; record 0 has twins at rows 0, 4; record 1 at rows 1, 5 (row 5 invalid); record 2 at 2, 6;
    # record 3 has one twin, invalid (row 3): it counts nowhere
    source = np.array([0, 1, 2, 3, 0, 1, 2])
    valid = np.array([True, True, True, False, True, False, True])
    original = pd.DataFrame({"s": ["f", "m", "f", "m"]})
    twins = pd.DataFrame({"s": ["m", "f", "m", "f", "m", "f", "m"], "row": range(7)})
    return TwinSet(original, twins, source, ("s",), valid, "flip", {"k": k})


def test_a_records_value_is_the_share_of_its_valid_twins_that_changed_or_whether_any_did():
    changed = np.array([True, False, True, False, True])  # one per valid twin: rows 0, 1, 2, 4, 6
    values, has = _twinset(2).per_record(changed)
    assert values.tolist() == [0.5, 0.0, 1.0, 0.0] and has.tolist() == [True, True, True, False]
    assert _twinset(2).per_record(changed, share=False)[0].tolist() == [1.0, 0.0, 1.0, 0.0]
    assert _twinset(1).per_record(changed)[0].tolist() == [1.0, 0.0, 1.0, 0.0]  # one twin a record: any


def test_a_subset_keeps_each_records_twins_grouped_in_the_order_the_records_were_given():
    twinset = _twinset(2)
    rows = twinset.twin_rows(np.array([2, 0]))
    assert rows.tolist() == [2, 6, 0, 4]
    sub = twinset.subset(np.array([2, 0]))
    assert sub.twins["row"].tolist() == rows.tolist() and sub.source.tolist() == [0, 0, 1, 1]
    assert sub.original["s"].tolist() == ["f", "f"]
