"""LLM screener queries per second on SmolLM2-135M (issue #18): one prompt per forward pass against batches.

The same profiles through ``LLMDecisionAdapter`` with a TransformersChat of ``batch_size=1`` (a forward pass per
prompt, as before) and of larger batches (left padding), alternately in one process, 1 torch thread; the answers
must agree (decisions equal, scores within 1e-5). Medians of the repeats.

Usage: python benchmarks/bench_llm_screener.py [PROFILES] [--repeats R] [--batches 4,8,16]
(the first row is always the screener's path before batching: token_logprobs, a prompt per call)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import fairprobe as fp
from fairprobe.adapters import LLMDecisionAdapter
from fairprobe.llm import TransformersChat

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from llm_backends import OneAtATime  # the backend without batching, shared with tests/test_smollm2.py

TEMPLATE = "{text}\nShould we invite this candidate to an interview? Answer yes or no."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profiles", nargs="?", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", default="1,8")
    args = parser.parse_args()
    world = fp.worlds.hiring(n=args.profiles, seed=9)
    frame = world.data.assign(profile=world.profiles())[["profile"]]
    base = TransformersChat.smollm2()
    base.chat([{"role": "user", "content": "Hello"}], max_tokens=1)  # load the weights once
    sizes = [0] + [int(b) for b in args.batches.split(",")]  # 0: one prompt per call, as before
    seconds: dict[int, list[float]] = {b: [] for b in sizes}
    answers = {}
    for _ in range(args.repeats):
        for size in sizes:
            chat = TransformersChat(base.path, gguf_file=base.gguf_file, batch_size=max(size, 1))
            backend = OneAtATime(chat) if size == 0 else chat
            start = time.perf_counter()
            answers[size] = LLMDecisionAdapter(backend, TEMPLATE).predict(frame)
            seconds[size].append(time.perf_counter() - start)
    first = answers[sizes[0]]
    print(f"# LLM screener, SmolLM2-135M-Instruct (Q4_1 GGUF), {args.profiles} profiles, 1 torch thread; "
          f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"load {os.getloadavg()[0]:.2f}; medians of {args.repeats}")
    print(f"{'prompts per forward pass':>25s} {'seconds':>8s} {'queries/s':>10s} {'vs 1':>6s} {'same answers':>13s}")
    for size in sizes:
        median = statistics.median(seconds[size])
        same = bool((answers[size].decision == first.decision).all()) and \
            bool(np.allclose(answers[size].score, first.score, rtol=0, atol=1e-5))
        label = "1 (before: token_logprobs)" if size == 0 else str(size)
        print(f"{label:>25s} {median:8.2f} {args.profiles / median:10.2f} "
              f"{statistics.median(seconds[sizes[0]]) / median:5.2f}x {same!s:>13s}")


if __name__ == "__main__":
    main()
