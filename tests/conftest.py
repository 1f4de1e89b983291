from pathlib import Path

import pytest

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(scope="session")
def datasets() -> Path:
    """../shared/datasets beside the checkout (or $FAIRPROBE_DATASETS); skip when absent."""
    import os

    folder = Path(os.environ.get("FAIRPROBE_DATASETS", DATASETS))
    if not folder.is_dir():
        pytest.skip(f"real datasets not found at {folder} (set FAIRPROBE_DATASETS to their folder)")
    return folder
