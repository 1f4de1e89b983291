"""``device=`` for the CVAE: the same twins on every device for a fixed seed, clear errors, and draws made on the CPU.

The machine that wrote these tests has no GPU: the CUDA tests at the end skip without one (a GPU
session runs them, and benchmarks/bench_cvae_device.py), everything else runs everywhere. Tolerances
of the CUDA comparison: numeric cells within 1e-3 of the column's interquartile range and categories
equal, in every twin cell but 0.1 % of a column's (at least 2 allowed): a category is a Gumbel argmax
and a numeric cell is rounded to the data's precision, so a float32 difference can cross a tie or a
rounding edge.
"""

import ast
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="CVAE twins need the [cvae] extra (torch)")

import fairprobe as fp  # noqa: E402
from fairprobe.twins.cvae import CVAE  # noqa: E402
from fairprobe.twins.cvae.device import Noise, resolve_device  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "probes"))
from _models import HELD  # noqa: E402

CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="no CUDA device on this machine: a GPU session runs the CPU-against-CUDA comparison")
CVAE_DIR = Path(__file__).resolve().parents[1] / "fairprobe" / "twins" / "cvae"


@pytest.fixture(scope="module")
def fitted():
    data = fp.worlds.hiring(n=800, seed=4).data
    rng = np.random.default_rng(0)  # a numeric free column that sex moves, a tenth of it missing
    km = rng.gamma(2.0, 6.0, len(data)) + 6.0 * (data["sex"] == "male")
    data = data.assign(commute_km=np.where(np.arange(len(data)) % 10 == 0, np.nan, km.round(1)))
    return data, CVAE(epochs=3, k=3).fit(data, protected=["sex", "race"], held=HELD, exclude=["hired"])


def _twins(cvae, data, seed=2):
    return cvae.generate(data.iloc[:150], ["sex"], held=HELD, seed=seed)


def test_the_default_is_the_cpu_and_device_cpu_gives_its_twins_bit_for_bit(fitted, monkeypatch):
    data, cvae = fitted
    with monkeypatch.context() as patched:  # even where CUDA is there: the default does not follow the machine
        patched.setattr(torch.cuda, "is_available", lambda: True)
        assert CVAE().device == torch.device("cpu") and cvae.device == torch.device("cpu")
    explicit = CVAE(epochs=3, k=3, device="cpu").fit(data, protected=["sex", "race"], held=HELD, exclude=["hired"])
    assert explicit.fingerprint_ == cvae.fingerprint_
    pd.testing.assert_frame_equal(_twins(explicit, data).twins, _twins(cvae, data).twins)
    as_device = CVAE(epochs=3, k=3, device=torch.device("cpu")).fit(data, protected=["sex", "race"], held=HELD,
                                                                    exclude=["hired"])
    assert as_device.fingerprint_ == cvae.fingerprint_


def test_device_names_are_read_in_any_case():
    # "AUTO" was accepted while "CPU" was refused as not a device
    assert resolve_device("CPU") == resolve_device(" cpu ") == torch.device("cpu")


def test_auto_is_cuda_where_there_is_one_and_the_cpu_here(fitted, monkeypatch):
    data, cvae = fitted
    assert resolve_device("auto") == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    auto = CVAE(epochs=3, k=3, device="auto")
    assert auto.device == torch.device("cpu")
    auto.fit(data, protected=["sex", "race"], held=HELD, exclude=["hired"])
    assert auto.fingerprint_ == cvae.fingerprint_
    pd.testing.assert_frame_equal(_twins(auto, data).twins, _twins(cvae, data).twins)


def test_the_twins_record_the_device_they_were_made_on(fitted):
    data, cvae = fitted
    info = _twins(cvae, data).info
    assert info["device"] == "cpu" and info["fit_device"] == "cpu"
    assert "commute_km" in info["structure"]["moved"]  # so the CUDA comparison below runs the numeric path too
    result = fp.Probe(data=data.iloc[:150], model=lambda df: (df["hobby"] == "knitting").to_numpy(),
                      protected=["sex", "race"], held=HELD, twins=cvae).invariance("sex", max_flip_rate=0.5)
    assert result.details["generator_info"]["device"] == "cpu"


def test_a_fit_made_off_the_cpu_is_named_in_the_saved_file_and_a_cpu_fit_keeps_its_format(fitted, tmp_path):
    import json

    data, cvae = fitted
    path = cvae.save(tmp_path / "cpu.safetensors")
    assert "fit_device" not in json.loads(path.with_name(path.name + ".json").read_text())
    assert CVAE.load(path, device="cpu").fingerprint_ == cvae.fingerprint_
    other = CVAE.load(path)
    other.fit_device_ = "cuda"  # as a fit on a GPU records it (its weights come back to the CPU to be saved)
    other.fingerprint_ = other._fingerprint()
    loaded = CVAE.load(other.save(tmp_path / "gpu.safetensors"), device="cpu")
    assert loaded.fit_device_ == "cuda" and loaded.fingerprint_ == other.fingerprint_ != cvae.fingerprint_
    assert _twins(loaded, data).info["fit_device"] == "cuda"


def test_the_cache_keeps_fits_on_other_devices_apart():
    from fairprobe.twins.cvae import io

    args = ({"k": 1}, "sha", ["sex"], [], [])
    assert io.cache_key(*args) == io.cache_key(*args, fit_device="cpu") != io.cache_key(*args, fit_device="cuda")


def test_the_cache_never_reuses_a_fit_made_by_other_code(monkeypatch):
    """An edited checkout of the same version must refit: the key holds a digest of the code that fits."""
    from fairprobe.twins.cvae import io

    args = ({"k": 1}, "sha", ["sex"], [], [])
    before = io.cache_key(*args)
    monkeypatch.setattr(io, "fit_code_digest", lambda: "another checkout")
    assert io.cache_key(*args) != before
    monkeypatch.undo()
    read = io.Path.read_bytes
    for edited in ("model.py", "paired.py", "encoding.py"):  # the training loop, the twins, the encoding
        io.fit_code_digest.cache_clear()
        monkeypatch.setattr(io.Path, "read_bytes", lambda self, name=edited: read(self) + b"#" * (self.name == name))
        assert io.cache_key(*args) != before, edited
        monkeypatch.undo()
    io.fit_code_digest.cache_clear()
    assert io.cache_key(*args) == before


@pytest.mark.parametrize(("device", "message"), [
    ("cuda", r"CVAE device='cuda': torch\.cuda\.is_available\(\) is False on this machine .*use device='cpu'"),
    ("cuda:1", r"CVAE device='cuda:1': torch\.cuda\.is_available\(\) is False .*use device='cpu'"),
    (torch.device("cuda"), r"CVAE device='cuda': torch\.cuda\.is_available\(\) is False"),
    ("mps", r"CVAE device='mps': torch\.backends\.mps\.is_available\(\) is False .*use device='cpu'"),
    ("gpu", r"CVAE device='gpu' is not a device; choose 'cpu', 'cuda', 'cuda:N', 'mps', 'auto'"),
    ("cuda:x", r"CVAE device='cuda:x' is not a device; choose 'cpu', 'cuda'"),
    ("meta", r"CVAE device='meta' is not supported; choose 'cpu', 'cuda'"),
    (0, r"CVAE device must be a string or a torch\.device; got int 0; choose 'cpu'"),
    (None, r"CVAE device must be a string or a torch\.device; got NoneType None"),
])
def test_an_unavailable_or_unknown_device_is_refused_with_what_to_do(device, message, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    with pytest.raises(fp.InvalidSpec, match=message):
        CVAE(device=device)


def test_a_cuda_index_beyond_the_machine_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(fp.InvalidSpec, match=r"device='cuda:2': this machine has 2 CUDA device\(s\) \(cuda:0 to "
                                             r"cuda:1\); choose one of them"):
        resolve_device("cuda:2")
    assert resolve_device("cuda:1") == torch.device("cuda:1")


def test_load_to_and_the_cli_refuse_an_unavailable_device_before_any_work(fitted, tmp_path, monkeypatch, capsys):
    from fairprobe.cli import main

    _, cvae = fitted
    path = cvae.save(tmp_path / "g.safetensors")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(fp.InvalidSpec, match=r"^CVAE device='cuda': torch\.cuda\.is_available\(\) is False"):
        CVAE.load(path, device="cuda")
    with pytest.raises(fp.InvalidSpec, match=r"^CVAE device='cuda:0': torch\.cuda\.is_available\(\) is False"):
        CVAE.load(path).to("cuda:0")
    code = main(["fit", str(tmp_path / "not-read.csv"), "--protected", "sex", "--device", "cuda",
                 "--out", str(tmp_path / "x.safetensors")])
    err = capsys.readouterr().err
    assert code == 2 and "device='cuda'" in err and "device='cpu'" in err and "not-read.csv" not in err


# --------------------------------------------------------------------------- draws made on the CPU


def test_noise_draws_on_the_cpu_generator_and_moves_the_numbers_to_the_device():
    # The meta device holds shapes, not numbers: a draw made there (a device generator, or device= on the draw)
    # would leave the CPU generator where it was, or fail; made on the CPU, it advances it exactly as on the CPU.
    cpu, meta = Noise(7, "cpu"), Noise(7, "meta")
    weights = torch.tensor([[0.2, 0.8], [0.5, 0.5]])
    for name, draw in [("normal", lambda n: n.normal((4, 3))), ("uniform", lambda n: n.uniform((5,))),
                       ("permutation", lambda n: n.permutation(6)), ("choice", lambda n: n.choice(weights, 1))]:
        on_cpu, moved = draw(cpu), draw(meta)
        assert moved.device.type == "meta" and moved.shape == on_cpu.shape and moved.dtype == on_cpu.dtype, name
        assert torch.equal(meta.generator.get_state(), cpu.generator.get_state()), name
    # and the numbers are the CPU's Mersenne Twister stream for the seed
    reference = torch.Generator().manual_seed(11)
    assert torch.equal(Noise(11).normal((3, 2)), torch.randn((3, 2), generator=reference))


def test_the_initial_weights_are_drawn_on_the_cpu_then_moved(monkeypatch):
    from fairprobe.twins.cvae.model import CVAEConfig, seeded_net

    drawn_on = []
    original = torch.nn.init.kaiming_uniform_

    def spy(tensor, *args, **kwargs):
        drawn_on.append(tensor.device.type)
        return original(tensor, *args, **kwargs)

    monkeypatch.setattr(torch.nn.init, "kaiming_uniform_", spy)
    net = seeded_net(5, 3, 2, CVAEConfig(hidden=8, latent_dim=2), [(2, 5)], 2, torch.device("meta"))
    assert drawn_on and set(drawn_on) == {"cpu"}
    assert {p.device.type for p in net.parameters()} == {"meta"}
    a = seeded_net(5, 3, 2, CVAEConfig(hidden=8, latent_dim=2), [(2, 5)], 2, torch.device("cpu"))
    b = seeded_net(5, 3, 2, CVAEConfig(hidden=8, latent_dim=2), [(2, 5)], 2, torch.device("cpu"))
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


RANDOM = {"rand", "randn", "randint", "randperm", "multinomial", "normal", "bernoulli", "poisson", "rand_like",
          "randn_like", "randint_like", "Generator", "manual_seed", "seed"}


def test_every_random_draw_of_the_cvae_goes_through_noise():
    # A draw made on the device (or by a device's generator) would give other twins there: only the Noise draws,
    # and the seeded initial weights (model.seeded_net, on the CPU), may call torch's random functions.
    found = []
    for path in sorted(CVAE_DIR.glob("*.py")):
        if path.name == "device.py":
            continue

        def visit(node, function, path=path):
            if (isinstance(node, ast.Attribute) and node.attr in RANDOM and isinstance(node.value, ast.Name)
                    and node.value.id == "torch" and (path.name, function) != ("model.py", "seeded_net")):
                found.append(f"{path.name}:{node.lineno} torch.{node.attr}")
            for child in ast.iter_child_nodes(node):
                visit(child, node.name if isinstance(node, ast.FunctionDef) else function)

        visit(ast.parse(path.read_text()), None)
    assert not found, f"random draws outside Noise: {sorted(set(found))}"


# --------------------------------------------------------------------------- on a GPU (skipped without CUDA)


def _agree(a: pd.DataFrame, b: pd.DataFrame, data: pd.DataFrame) -> None:
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for column in a.columns:
        if pd.api.types.is_numeric_dtype(data[column]) and not pd.api.types.is_bool_dtype(data[column]):
            x, y = a[column].to_numpy(dtype=float), b[column].to_numpy(dtype=float)
            spread = float(np.subtract(*np.nanpercentile(data[column].to_numpy(dtype=float), [75, 25]))) or 1.0
            same = (np.isnan(x) & np.isnan(y)) | (np.abs(x - y) <= 1e-3 * spread)
        else:
            same = a[column].astype(str).to_numpy() == b[column].astype(str).to_numpy()
        differ = int((~same).sum())
        assert differ <= max(2, 0.001 * len(same)), f"{column}: {differ} of {len(same)} twin cells differ (CPU, CUDA)"


@CUDA
def test_cuda_twins_are_the_cpu_twins_for_a_seed(fitted):
    data, cvae = fitted
    cpu = cvae.generate(data.iloc[:300], ["sex", "race"], held=HELD, seed=5)
    cvae.to("cuda")
    try:
        assert {p.device.type for p in cvae.net_.parameters()} == {"cuda"}
        gpu = cvae.generate(data.iloc[:300], ["sex", "race"], held=HELD, seed=5)
        null = cvae.null_twins(data.iloc[:300], ["sex"], held=HELD, seed=5)
        same = cvae.self_twins(data.iloc[:300], ["sex"], held=HELD, seed=5)
    finally:
        cvae.to("cpu")
    assert gpu.info["device"].startswith("cuda") and cpu.info["device"] == "cpu"
    np.testing.assert_array_equal(gpu.source, cpu.source)
    _agree(gpu.twins, cpu.twins, data)
    _agree(null.twins, cvae.null_twins(data.iloc[:300], ["sex"], held=HELD, seed=5).twins, data)
    pd.testing.assert_frame_equal(same.twins, data.iloc[:300].iloc[same.source].reset_index(drop=True))


@CUDA
def test_a_fit_on_cuda_saves_weights_that_load_on_the_cpu_and_make_the_same_twins(fitted, tmp_path):
    data, cvae = fitted
    gpu = CVAE(epochs=3, k=3, device="cuda").fit(data, protected=["sex", "race"], held=HELD, exclude=["hired"])
    assert gpu.fit_device_ == "cuda" and {p.device.type for p in gpu.net_.parameters()} == {"cuda"}
    # the same seed on another device's arithmetic: the first epoch's loss agrees, the weights end elsewhere
    assert gpu.history_[0]["train"] == pytest.approx(cvae.history_[0]["train"], rel=1e-2)
    loaded = CVAE.load(gpu.save(tmp_path / "gpu.safetensors"), device="cpu")
    assert loaded.fingerprint_ == gpu.fingerprint_ and loaded.fit_device_ == "cuda"
    _agree(_twins(gpu, data).twins, _twins(loaded, data).twins, data)
    sampled_gpu, sampled_cpu = gpu.sample(300, seed=1, conditions=data), loaded.sample(300, seed=1, conditions=data)
    _agree(sampled_gpu, sampled_cpu, data)


@CUDA
def test_noise_on_cuda_is_the_cpu_noise():
    cpu, gpu = Noise(3, "cpu"), Noise(3, "cuda")
    assert torch.equal(gpu.normal((1000, 8)).cpu(), cpu.normal((1000, 8)))
    assert torch.equal(gpu.permutation(500).cpu(), cpu.permutation(500))
    weights = torch.rand(200, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(gpu.choice(weights.cuda(), 1).cpu(), cpu.choice(weights, 1))
