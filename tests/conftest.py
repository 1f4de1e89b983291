import contextlib
import sys
from pathlib import Path

import pytest

# pytester forgets, when a test ends, every module imported during the test, but a compiled extension
# keeps the classes of its first import: cryptography imported inside a pytester test and imported
# again later fails its own isinstance checks (keygen raised "Encryption algorithm must be a
# KeySerializationEncryption instance" in whichever xdist worker ran a signing test first). Import it
# once here, before any pytester test, so it is never forgotten.
with contextlib.suppress(ImportError):
    import cryptography.hazmat.primitives.asymmetric.ed25519
    import cryptography.hazmat.primitives.serialization  # noqa: F401

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(scope="session")
def datasets() -> Path:
    """../shared/datasets beside the checkout (or $FAIRPROBE_DATASETS); skip when absent."""
    import os

    folder = Path(os.environ.get("FAIRPROBE_DATASETS", DATASETS))
    if not folder.is_dir():
        pytest.skip(f"real datasets not found at {folder} (set FAIRPROBE_DATASETS to their folder)")
    return folder


class InFlight:
    """``fn`` held ``hold`` seconds a call, counting the most calls running at once (``most``): how tests
    see that an adapter or a rewriter keeps its bound on concurrent requests.

    With ``together=k``, the first k calls also wait for one another at a barrier, so ``most`` reaches k
    whenever the caller does send k calls at once, however slow the machine (three 0.1 s sleeps overlap only
    when the threads get the CPU in time; on a saturated machine they did not). A caller that never has k in
    flight breaks the barrier after ``wait`` seconds, and the call raises ``threading.BrokenBarrierError``.
    A call beyond the bound is still seen only if it arrives while others are held: a missed one lets a test
    pass, never fail, when the machine is slow."""

    def __init__(self, fn, hold: float = 0.1, together: int = 0, wait: float = 60.0) -> None:
        import threading

        self.fn, self.hold, self.now, self.most, self.started = fn, hold, 0, 0, 0
        self._lock = threading.Lock()
        self._barrier = threading.Barrier(together, timeout=wait) if together else None
        self.together = together

    def __call__(self, *args, **kwargs):
        import time

        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.started += 1
            first = self.started <= self.together
        if first:
            self._barrier.wait()
        time.sleep(self.hold)
        with self._lock:
            self.now -= 1
        return self.fn(*args, **kwargs)


@pytest.fixture
def in_flight():
    """``in_flight(fn)``: ``fn`` wrapped in :class:`InFlight`."""
    return InFlight


@pytest.fixture(autouse=True)
def _inner_pytest_as_on_a_desk(request, monkeypatch):
    """A pytester run prints the same on a desk and in CI: pytest prints each failure's whole message again in
    its short summary when $CI or $BUILD_NUMBER is set, which doubled what tests count in the output (the
    worst twin pairs) on CI only."""
    if "pytester" in request.fixturenames:
        monkeypatch.delenv("CI", raising=False)
        monkeypatch.delenv("BUILD_NUMBER", raising=False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item):
    """pytester forgets, when its test ends, every module imported during the test (it restores a snapshot of
    sys.modules), but this suite runs every inner pytest in a subprocess, so forgetting protects nothing: it only
    leaves a second copy of a fairprobe module (and of its classes) for whichever test imports it next, which made
    tests depend on the order they ran in (a class from the forgotten copy fails isinstance against the new one).
    Put back what pytester took out."""
    if "pytester" not in getattr(item, "fixturenames", ()):
        return (yield)
    modules = dict(sys.modules)
    try:
        return (yield)
    finally:
        for name, module in modules.items():
            sys.modules.setdefault(name, module)
