"""Where the records are: partitions of a table, read one at a time, by the driver or by a worker.

A :class:`Partition` is a small picklable description (a slice of an in-memory table, row groups of
a Parquet file, or a block of a Ray Dataset held by the cluster) that the process holding it reads
with :meth:`Partition.read`. Parquet is read with pyarrow, a few row groups at a time, so a file
larger than memory is probed with bounded memory; a Ray Dataset's blocks stay where they are.
Every partition knows its ``offset``, the position of its first record in the whole data: the order
that breaks ties between counterexamples, so any engine gives the same worst pairs.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from fairprobe.errors import InvalidSpec, MissingDependency
from fairprobe.validation import check_count

DEFAULT_ROWS = 100_000


@dataclass(frozen=True)
class Partition:
    """One part of the records: ``rows`` records from position ``offset`` of the whole data."""

    index: int
    offset: int
    rows: int
    path: str | None = None
    row_groups: tuple[int, ...] = ()
    frame: pd.DataFrame | None = None  # in-memory parts travel with their rows
    block: Any = None  # a Ray object reference to one block of a Ray Dataset (an Arrow table or a DataFrame)

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The partition's rows (only ``columns`` when given), with a 0-based index.

        A block of a Ray Dataset read for a few columns is cut where it sits and only those travel."""
        if self.frame is not None:
            frame = self.frame if columns is None else self.frame[list(columns)]
            return frame.reset_index(drop=True)
        if self.block is not None:
            import ray

            if columns is None:
                return block_frame(ray.get(self.block))
            return ray.get(_remote(block_frame).remote(self.block, list(columns)))
        import pyarrow.parquet as pq

        table = pq.ParquetFile(self.path).read_row_groups(list(self.row_groups),
                                                           columns=None if columns is None else list(columns))
        return table.to_pandas()


def block_frame(block: Any, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A block of a Ray Dataset (an Arrow table or a DataFrame) as a DataFrame, only ``columns`` when given."""
    if isinstance(block, pd.DataFrame):
        frame = block if columns is None else block[list(columns)]
    else:
        frame = (block if columns is None else block.select(list(columns))).to_pandas()
    return frame.reset_index(drop=True)


def is_ray_dataset(data: Any) -> bool:
    """A Ray Dataset, recognised without importing Ray."""
    return type(data).__module__.startswith("ray.data") and hasattr(data, "to_arrow_refs")


def partition_data(data: Any, *, rows: int = DEFAULT_ROWS) -> list[Partition]:
    """Partitions of a DataFrame (slices of about ``rows`` records), a Parquet file (its row groups,
    gathered until about ``rows`` records) or a Ray Dataset (its blocks, as they are: repartition the
    dataset to change them; ``rows`` does not apply).

    Examples
    --------
    >>> parts = partition_data(pd.DataFrame({"x": range(10)}), rows=4)
    >>> [(p.offset, p.rows) for p in parts]
    [(0, 4), (4, 4), (8, 2)]
    """
    rows = check_count("partition_rows", rows)
    if isinstance(data, pd.DataFrame):
        if not len(data):
            raise InvalidSpec("data is empty (0 rows); a probe needs at least one record")
        return [Partition(i, start, min(rows, len(data) - start), frame=data.iloc[start:start + rows])
                for i, start in enumerate(range(0, len(data), rows))]
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file() or path.suffix.lower() not in (".parquet", ".pq"):
            raise InvalidSpec(f"a partitioned probe reads a Parquet file; {str(path)!r} is "
                              + ("not a file" if not path.is_file() else f"a {path.suffix!r} file")
                              + " (write the table with DataFrame.to_parquet(path, row_group_size=100_000))")
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise MissingDependency("pyarrow", "parquet", "reading Parquet files") from exc
        metadata = pq.ParquetFile(path).metadata
        out: list[Partition] = []
        group: list[int] = []
        size, offset = 0, 0
        for g in range(metadata.num_row_groups):
            group.append(g)
            size += metadata.row_group(g).num_rows
            if size >= rows or g == metadata.num_row_groups - 1:
                out.append(Partition(len(out), offset, size, path=str(path), row_groups=tuple(group)))
                offset, size, group = offset + size, 0, []
        if not out or offset == 0:
            raise InvalidSpec(f"Parquet file {str(path)!r} holds no rows")
        return out
    if is_ray_dataset(data):
        return _ray_blocks(data)
    raise InvalidSpec("a partitioned probe takes a DataFrame, the path of a Parquet file or a Ray Dataset; got "
                      f"{type(data).__name__}")


def _ray_blocks(dataset: Any) -> list[Partition]:
    """One partition per non-empty block of a Ray Dataset; only the blocks' row counts come to the driver."""
    import ray

    refs = dataset.to_arrow_refs()
    sizes = ray.get([_remote(_num_rows).remote(ref) for ref in refs])
    out: list[Partition] = []
    offset = 0
    for ref, size in zip(refs, sizes):
        if size:
            out.append(Partition(len(out), offset, int(size), block=ref))
            offset += int(size)
    if not out:
        raise InvalidSpec("the Ray Dataset holds no rows; a probe needs at least one record")
    return out


@functools.lru_cache(maxsize=None)
def _remote(fn: Any) -> Any:
    """``fn`` as a Ray remote function, made once (not once per partition read)."""
    import ray

    return ray.remote(fn)


def _num_rows(block: Any) -> int:
    return len(block) if isinstance(block, pd.DataFrame) else int(block.num_rows)


def read_columns(parts: Sequence[Partition], columns: Sequence[str]) -> Iterator[pd.DataFrame]:
    """A few columns of every partition, one partition at a time."""
    for part in parts:
        yield part.read(columns)
