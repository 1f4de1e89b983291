"""Running a job over partitions: here, one partition at a time, or on a Ray cluster where the data sits.

Both return one :class:`~fairprobe.engines.job.PartitionResult` per partition; the driver merges
their counts, so the verdict does not depend on the engine (nor on the order results arrive in).
Another engine (Dask, Spark) needs only a function of this shape.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from fairprobe.engines.job import PartitionJob, PartitionResult
from fairprobe.engines.partitions import Partition, block_frame
from fairprobe.errors import FairprobeError, InvalidSpec, MissingDependency

ENGINES = ("local", "ray")


def run_local(job: PartitionJob, parts: Sequence[Partition]) -> list[PartitionResult]:
    """Each partition in turn in this process: memory holds one partition and the counts."""
    return [job.run(part) for part in parts]


def run_ray(job: PartitionJob, parts: Sequence[Partition], *, address: str | None = None,
            max_in_flight: int | None = None) -> list[PartitionResult]:
    """Each partition as a Ray task. The job (model, generator) is put in the object store once and read by
    every worker; a Parquet partition is read by the worker that runs it, a block of a Ray Dataset is
    the task's argument (Ray runs the task where the block sits), an in-memory one travels with its task. At most ``max_in_flight`` tasks are pending at once (default: twice the cluster's CPUs), so
    the driver holds a bounded number of results. When partitions fail, the error raised is the first failing
    partition's, as the local engine raises it, whichever task finished first.

    ``address``: an existing cluster (``"ray://head:10001"``, or ``"auto"``); default: ``$RAY_ADDRESS``
    when set, else the cluster this process already joined, else a local one.
    """
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency("ray", "ray", "probes on a Ray cluster (engine='ray')") from exc
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False,
                 ignore_reinit_error=True)
    _ship_by_value(ray, job)
    remote = ray.remote(_run_part)
    job_ref = ray.put(job)
    limit = max_in_flight or max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
    pending: list[Any] = []
    index: dict[Any, int] = {}  # each task's partition
    results: list[PartitionResult] = []
    try:
        for part in parts:
            if len(pending) >= limit:
                done, pending = ray.wait(pending, num_returns=1)
                results.extend(_collect(ray, done, pending, index))
            # A Ray Dataset's block goes as a task argument of its own, so Ray runs the task where the block sits.
            task = remote.remote(job_ref, replace(part, block=None), part.block)
            index[task] = part.index
            pending.append(task)
        results.extend(_collect(ray, pending, [], index))
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, FairprobeError):  # fairprobe's own message, not a worker's traceback
            raise cause from None
        raise
    return results


def _collect(ray: Any, tasks: Sequence[Any], running: Sequence[Any], index: dict[Any, int]) -> list[PartitionResult]:
    """The results of finished ``tasks``, in partition order. When one failed, the failure raised is that of the
    first partition to fail, as the local engine (one partition after another) raises it: a task of an earlier
    partition still ``running`` is waited for, and its failure comes first. Which worker finished first (load,
    scheduling) then never changes the error a user sees."""
    out = []
    for task in sorted(tasks, key=index.__getitem__):
        try:
            out.append(ray.get(task))
        except ray.exceptions.RayTaskError:
            for earlier in sorted((t for t in running if index[t] < index[task]), key=index.__getitem__):
                ray.get(earlier)  # raises, if that partition failed too
            raise
    return out


def _ship_by_value(ray: Any, job: PartitionJob) -> None:
    """A model defined in a test file or a notebook is pickled by value: the workers cannot import its module."""
    import inspect

    for thing in (getattr(job.adapter, "fn", None), getattr(job.adapter, "estimator", None)):
        if thing is None:
            continue
        module = inspect.getmodule(thing if inspect.isfunction(thing) or inspect.isclass(thing) else type(thing))
        name = getattr(module, "__name__", "")
        if module is not None and name.split(".")[0] not in _LIBRARIES:
            ray.cloudpickle.register_pickle_by_value(module)


_LIBRARIES = {"builtins", "fairprobe", "sklearn", "numpy", "pandas", "torch", "transformers", "xgboost", "lightgbm",
              "onnxruntime", "mlflow", "scipy"}


def _run_part(job: PartitionJob, part: Partition, block: Any = None) -> PartitionResult:
    if block is not None:
        part = replace(part, frame=block_frame(block))
    return job.run(part)


def run(engine: str, job: PartitionJob, parts: Sequence[Partition], **options: Any) -> list[PartitionResult]:
    """Run ``job`` over ``parts`` with the named engine."""
    if engine == "local":
        return run_local(job, parts)
    if engine == "ray":
        return run_ray(job, parts, **options)
    from fairprobe.errors import unknown_choice

    raise unknown_choice("engine", engine, ENGINES)


def check_engine(engine: Any) -> str:
    if engine not in ENGINES:
        from fairprobe.errors import unknown_choice

        raise unknown_choice("engine", engine, ENGINES)
    if engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise MissingDependency("ray", "ray", "probes on a Ray cluster (engine='ray')") from exc
    return str(engine)


__all__ = ["ENGINES", "InvalidSpec", "check_engine", "run", "run_local", "run_ray"]
