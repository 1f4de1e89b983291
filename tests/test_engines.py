"""Probes over partitions: the same verdict as one pass, from a Parquet file or on a Ray cluster."""

import time
import warnings

import numpy as np
import pytest

import fairprobe as fp

HELD = ["years_experience", "degree", "skills_score", "certifications"]
FEATURES = ["sex", "race", "skills_score", "years_experience"]


def biased(frame):
    return ((frame["skills_score"] > 55) | ((frame["sex"] == "male") & (frame["skills_score"] > 45))).to_numpy()


def scored(frame):
    return np.clip(frame["skills_score"].to_numpy() / 100 + np.where(frame["race"] == "white", 0.03, 0.0), 0, 1)


@pytest.fixture(scope="module")
def world():
    return fp.worlds.hiring(n=5000, seed=6)


@pytest.fixture(scope="module")
def parquet(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "applicants.parquet"
    world.data.to_parquet(path, row_group_size=700)
    return path


def _checks():
    return (fp.invariant("sex", max_flip_rate=0.01), fp.invariant(["sex", "race"], max_flip_rate=0.01),
            fp.equalized_odds("sex", max_gap=0.1), fp.demographic_parity(["sex", "race"], min_ratio=0.8))


def _same(a, b):
    assert (a.statistic, a.interval, a.verdict, a.n) == (b.statistic, b.interval, b.verdict, b.n)
    assert a.groups == b.groups and a.pairs == b.pairs
    assert a.counterexamples == b.counterexamples
    for floor in ("noise_floor", "null_noise_floor"):  # a CVAE's noise floors, summed over the partitions
        assert a.details.get(floor) == b.details.get(floor)


@pytest.mark.parametrize("model", [biased, scored])
@pytest.mark.parametrize("source", ["frame", "parquet"])
def test_partitions_give_the_in_memory_verdicts(world, parquet, model, source):
    args = dict(model=model, protected=["sex", "race"], label="hired", held=HELD, features=FEATURES)
    whole = fp.Probe(data=world.data, **args).run(*_checks())
    data = world.data if source == "frame" else parquet
    parted = fp.Probe(data=data, **args, engine="local", partition_rows=1200)
    parts = 5 if source == "frame" else 4  # slices of 1,200; or row groups of 700 gathered to 1,400
    assert isinstance(parted, fp.PartitionedProbe) and isinstance(parted, fp.Probe) and len(parted.parts) == parts
    split = parted.run(*_checks())
    for a, b in zip(split, whole):
        _same(a, b)
    assert split[0].context["engine"] == "local" and split[0].details["partitions"] == parts
    if model is biased:
        assert split[0].verdict == "fail"  # planted: the decision reads sex


def test_a_parquet_file_is_read_partition_by_partition(parquet, monkeypatch):
    import importlib

    module = importlib.import_module("fairprobe.engines.partitions")  # also when this test runs alone
    reads = []
    original = module.Partition.read

    def counting(self, columns=None):
        frame = original(self, columns)
        reads.append(len(frame))
        return frame

    monkeypatch.setattr(module.Partition, "read", counting)
    probe = fp.Probe(data=parquet, model=biased, protected=["sex"], features=FEATURES, engine="local",
                     partition_rows=1500)
    probe.invariance("sex", max_flip_rate=0.01)
    assert max(reads) <= 2100  # row groups of 700, gathered to at least 1,500: never the 5,000 records
    assert probe.queries <= 2 * 5000


def test_bad_partitioned_probes_are_named(world, tmp_path):
    with pytest.raises(fp.InvalidSpec, match="unknown engine 'spark'"):
        fp.Probe(data=world.data, model=biased, protected=["sex"], engine="spark")
    with pytest.raises(fp.InvalidSpec, match="does not take \\['bands'\\] yet"):
        fp.Probe(data=world.data, model=biased, protected=["sex"], engine="local", bands={"age": [0, 1, 2]})
    with pytest.raises(fp.InvalidSpec, match="a partitioned probe needs a fitted generator"):
        fp.Probe(data=world.data, model=biased, protected=["sex"], engine="local", twins="cvae")
    (tmp_path / "a.csv").write_text("sex\nf\n")
    with pytest.raises(fp.InvalidSpec, match="a partitioned probe reads a Parquet file"):
        fp.Probe(data=tmp_path / "a.csv", model=biased, protected=["sex"], engine="local")


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray", reason="engine='ray' needs the [ray] extra")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield ray
    ray.shutdown()


@pytest.mark.xdist_group("ray")  # one local Ray cluster per test session, not one per xdist worker
def test_a_ray_cluster_gives_the_local_verdicts(world, parquet, ray_cluster):
    pytest.importorskip("torch", reason="the CVAE case needs the [cvae] extra")
    cvae = fp.twins.CVAE(epochs=3, k=2, seed=0).fit(world.data.drop(columns=["first_name", "last_name"]),
                                                    protected=["sex", "race"], held=HELD, exclude=["hired"])
    data = world.data.drop(columns=["first_name", "last_name"])
    features = ["neighbourhood", "hobby", "career_gap", *HELD]

    def proxy_reader(frame):
        return ((frame["skills_score"] > 50) & (frame["neighbourhood"] != "eastgate")).to_numpy()

    for args in (dict(data=parquet, model=biased, features=FEATURES),
                 dict(data=data, model=proxy_reader, features=features, twins=cvae)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fp.FairprobeWarning)
            local = fp.Probe(**args, protected=["sex", "race"], label="hired", held=HELD, engine="local",
                             partition_rows=1000).run(*_checks())
            remote_probe = fp.Probe(**args, protected=["sex", "race"], label="hired", held=HELD, engine="ray",
                                    partition_rows=1000)
            remote = remote_probe.run(*_checks())
        for a, b in zip(remote, local):
            _same(a, b)
        assert remote[0].context["engine"] == "ray" and remote[0].context["data_sha256"] == local[0].context["data_sha256"]


@pytest.mark.xdist_group("ray")
def test_a_ray_dataset_is_probed_block_by_block_where_it_sits(world, ray_cluster, monkeypatch):
    # A Ray Dataset's blocks are the partitions: counted on the cluster (engine='ray') or read one at a
    # time by the driver (engine='local'); both give the in-memory verdicts: planted bias caught, and a
    # placebo (a screener that reads skills only, so sex moves nothing) passing.
    import importlib

    import ray.data

    module = importlib.import_module("fairprobe.engines.partitions")
    whole_reads = []
    read = module.Partition.read
    monkeypatch.setattr(module.Partition, "read",
                        lambda self, columns=None: whole_reads.append(columns is None) or read(self, columns))

    data = world.data[["sex", "race", "hired", *HELD]]
    dataset = ray.data.from_pandas([data.iloc[:1700], data.iloc[1700:1701], data.iloc[1701:3600], data.iloc[3600:]])
    args = dict(model=biased, protected=["sex", "race"], label="hired", held=HELD, features=FEATURES)
    whole = fp.Probe(data=data, **args).run(*_checks())
    for engine in ("ray", "local"):
        probe = fp.Probe(data=dataset, **args, engine=engine)
        assert [(p.offset, p.rows) for p in probe.parts] == [(0, 1700), (1700, 1), (1701, 1899), (3600, 1400)]
        whole_reads.clear()
        split = probe.run(*_checks())
        for a, b in zip(split, whole):
            _same(a, b)
        assert split[0].verdict == "fail" and split[0].context["engine"] == engine
        # On the cluster no block comes whole to the driver (only the protected columns, for the targets).
        assert sum(whole_reads) == (0 if engine == "ray" else 4)
    placebo = dict(args, model=lambda f: (f["skills_score"] > 55).to_numpy())
    fair = fp.Probe(data=dataset, **placebo, engine="ray").invariance("sex", max_flip_rate=0.01)
    _same(fair, fp.Probe(data=data, **placebo).invariance("sex", max_flip_rate=0.01))
    assert fair.verdict == "pass" and fair.statistic == 0
    with pytest.raises(fp.InvalidSpec, match=r"a Ray Dataset is probed where it sits: .*engine='ray'"):
        fp.Probe(data=dataset, **args)
    with pytest.raises(fp.InvalidSpec, match="the Ray Dataset holds no rows"):
        fp.Probe(data=ray.data.from_pandas(data.iloc[:0]), **args, engine="ray")


@pytest.mark.xdist_group("ray")
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_derived_columns_are_recomputed_in_every_partition(world, engine, request):
    # The model reads a title derived from sex: flip twins that left it as it was would see no change.
    # Partitions recompute it in every twin, as an in-memory probe does, and check the function on
    # every partition (a function that holds on the first partition only is refused, naming the record).
    data = world.data[["sex", "race", "hired", *HELD]].assign(
        title=lambda f: np.where(f["sex"] == "female", "Ms", "Mr"))
    derived = {"title": lambda f: np.where(f["sex"] == "female", "Ms", "Mr")}

    def reads_title(frame):
        return ((frame["skills_score"] > 55) | ((frame["title"] == "Mr") & (frame["skills_score"] > 45))).to_numpy()

    args = dict(model=reads_title, protected=["sex"], label="hired", held=HELD,
                features=["title", "skills_score", "years_experience"])
    checks = (fp.invariant("sex", max_flip_rate=0.01), fp.equalized_odds("sex", max_gap=0.1))
    if engine == "ray":
        request.getfixturevalue("ray_cluster")  # the functions travel to the workers (pickled by value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fp.FairprobeWarning)
        whole = fp.Probe(data=data, **args, derived=derived).run(*checks)
        split = fp.Probe(data=data, **args, derived=derived, engine=engine, partition_rows=1200).run(*checks)
        for a, b in zip(split, whole):
            _same(a, b)
        assert split[0].verdict == "fail" and split[0].statistic > 0.1 and split[0].context["derived"] == ["title"]
        unfixed = fp.Probe(data=data, **args, engine=engine, partition_rows=1200).invariance("sex", max_flip_rate=0.01)
        assert unfixed.statistic == 0 and unfixed.verdict != "fail"  # what derived= is for

        numbered = data.assign(number=np.arange(len(data)))
        wrong = {"title": lambda f: np.where((f["sex"] == "female") & (f["number"] < 1200), "Ms", "Mr")}
        first = 1200 + int(np.flatnonzero(data["sex"].to_numpy()[1200:] == "female")[0])
        with pytest.raises(fp.InvalidSpec, match=rf"derived\['title'\] does not reproduce .*record {first}:") as refused:
            fp.Probe(data=numbered, **args, derived=wrong, engine=engine, partition_rows=1200).invariance(
                "sex", max_flip_rate=0.01)
        assert type(refused.value) is fp.InvalidSpec  # fairprobe's error itself, not a worker's wrapped traceback


def test_a_partitioned_probe_is_a_probe_that_says_what_needs_the_records(world):
    # fp.Probe(..., engine=) keeps the one name users check against, and what only an in-memory probe can do
    # (its twins, answers, a comparison) is refused by name rather than an AttributeError.
    parted = fp.Probe(data=world.data, model=biased, protected=["sex"], features=FEATURES, engine="local")
    assert isinstance(parted, fp.Probe) and issubclass(fp.PartitionedProbe, fp.Probe)
    for call in (lambda: parted.twins("sex"), lambda: parted.predictions, lambda: parted.compare(biased, "sex"),
                 lambda: parted.assert_no_worse_than(biased, "sex"),
                 lambda: parted.make_twins(world.data, "sex")):
        with pytest.raises(fp.InvalidSpec, match="needs the records in memory; a partitioned probe"):
            call()


def test_a_partitioned_probe_refuses_text_twins_given_as_a_generator(world):
    # text= was refused by name, but a TextTwinGenerator passed as twins= ran unmerged rejections and residuals
    from fairprobe.twins.text import TextTwinGenerator

    data = world.data.head(50).assign(profile=world.profiles()[:50])
    with pytest.raises(fp.InvalidSpec, match=r"does not take text twins \(TextTwinGenerator\)"):
        fp.Probe(data=data, model=lambda frame: np.zeros(len(frame)), protected=["sex"], features=["profile"],
                 twins=TextTwinGenerator("profile"), engine="local")


def test_a_partitioned_probe_refuses_a_model_that_reads_the_label(world):
    # one rule for the model's columns, in memory and over partitions (the partitioned copy used to skip it)
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(world.data[["skills_score", "hired"]], world.data["hired"])
    for engine in (None, "local"):
        with pytest.raises(fp.InvalidSpec, match="the model reads the label column 'hired'"):
            fp.Probe(data=world.data, model=model, protected=["sex"], label="hired", engine=engine)


@pytest.mark.xdist_group("ray")
def test_ray_names_the_first_partition_that_fails_whichever_worker_finishes_first(ray_cluster, tmp_path,
                                                                                 monkeypatch):
    """Partitions 0 and 1 both fail; 1 fails at once and 0 only after the driver has seen 1 finish (a file the
    driver writes once ray.wait returns), so the order of finishing is fixed, not left to the machine's load. The
    local engine, one partition after another, names partition 0; so must Ray (it named partition 1: which
    task finished first decided the error, as under load it named another record in
    test_derived_columns_are_recomputed_in_every_partition)."""
    import pandas as pd

    from fairprobe.engines.job import PartitionResult
    from fairprobe.engines.partitions import Partition
    from fairprobe.engines.run import run_local, run_ray

    seen = tmp_path / "driver saw a task finish"

    class Job:  # defined here, so that Ray's workers receive it by value
        adapter = None

        def run(self, part):
            if part.index == 0:
                for _ in range(6000):  # a safety net of 10 minutes, not a timing: the file comes first
                    if seen.exists():
                        raise fp.InvalidSpec("partition 0 fails")
                    time.sleep(0.1)
                raise RuntimeError("the driver never saw partition 1 finish")
            if part.index == 1:
                raise fp.InvalidSpec("partition 1 fails")
            return PartitionResult(index=part.index)

    waited = ray_cluster.wait

    def wait_then_mark(*args, **kwargs):
        out = waited(*args, **kwargs)
        seen.touch()
        return out

    parts = [Partition(i, 10 * i, 10, frame=pd.DataFrame({"x": range(10)})) for i in range(3)]
    monkeypatch.setattr(ray_cluster, "wait", wait_then_mark)
    with pytest.raises(fp.InvalidSpec, match="partition 0 fails"):
        run_ray(Job(), parts, max_in_flight=2)  # 0 and 1 in flight; 1 finishes first
    assert seen.exists()
    with pytest.raises(fp.InvalidSpec, match="partition 0 fails"):
        run_local(Job(), parts)
