"""The in-memory and the partitioned probe do what a probe does in one place (base_probe), so neither skips a check
the other makes (issue #21, section 5)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import fairprobe as fp
from fairprobe.errors import InvalidSpec

ENGINES = [pytest.param({}, id="memory"), pytest.param({"engine": "local", "partition_rows": 200}, id="partitioned")]


def _skills(df: pd.DataFrame) -> np.ndarray:
    return (df["skills_score"] > 50).to_numpy()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_column_of_lists_the_model_reads_is_refused_by_name(engine):
    # The lists sit in the second partition only: a partitioned probe reads the first at construction and the
    # others during the check's pass, where it once raised a bare TypeError (unhashable type: 'list').
    data = fp.worlds.hiring(n=400, seed=1).data
    data["tags"] = pd.Series([None] * 200 + [["python", "sql"]] * 200, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.FairprobeWarning)
        with pytest.raises(InvalidSpec, match=r"column 'tags' holds list values in 200 rows .* one scalar per cell"):
            probe = fp.Probe(data=data, model=_skills, protected="sex", label="hired",
                             features=["sex", "skills_score", "tags"], **engine)
            probe.invariance("sex", max_flip_rate=0.05)


@pytest.mark.parametrize("engine", ENGINES)
def test_flip_twins_say_which_columns_going_with_the_attribute_they_left_alone(engine):
    # hobby and career_gap go with sex in the hiring world (AUC about 0.7) without encoding it: flip twins keep
    # them, and an invariance result says so, whichever probe ran it.
    data = fp.worlds.hiring(n=400, seed=1).data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.FairprobeWarning)
        probe = fp.Probe(data=data, model=_skills, protected="sex", label="hired", **engine)
        result = probe.invariance("sex", max_flip_rate=0.05)
    notes = result.details.get("notes") or []
    assert any(n.startswith("flip twins test direct use of sex only") and "hobby (AUC " in n
               for n in notes), notes
    # first_name encodes sex (AUC 1.00) and the twins keep it: the proxy warning rides on the result too
    assert any("first_name" in w for w in probe.proxy_warnings["sex"])
    assert set(probe.proxy_warnings["sex"]) <= set(result.warnings)
