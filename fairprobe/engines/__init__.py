"""Engines: probes over partitions of the records, counted where the data sits and merged by the driver.

- :mod:`.partitions`: slices of a DataFrame, or row groups of a Parquet file read with bounded memory;
- :mod:`.job`: what is done with one partition (twin, score, count) and how counts merge;
- :mod:`.run`: the engines (``local``: one partition at a time; ``ray``: tasks on a Ray cluster).

The probe over them, what ``fp.Probe(..., engine=...)`` gives, is :class:`fairprobe.PartitionedProbe`
(:mod:`fairprobe.partitioned`), a layer above.
"""

from fairprobe.engines.partitions import Partition, partition_data

__all__ = ["Partition", "partition_data"]
