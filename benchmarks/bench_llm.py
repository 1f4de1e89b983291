"""Small local language models offline on this CPU: LLM twins by mode (edit, whole, sentence), their acceptance
rate and the signals the edit mode finds, for SmolLM2-135M-Instruct and the Gemma 3 270M base model; then
the LLM screener's queries per second.

Usage: python benchmarks/bench_llm.py [PROFILES] [MODELS]   (MODELS: smollm2,gemma3; default both)

Profiles are labelled resumes (fairprobe.twins.text.samples: bios and cover letters, each with a signal of
the person's sex where the set has one); sex twins; greedy decoding, no retries (a greedy local model gives
the same answer again); in edit mode the answer is started with '[{"span": "' (prefill), without which
neither model wrote a list at all. Every answer is validated; a rejected one falls back to the rules' twin.
"""

from __future__ import annotations

import platform
import sys
import time
from collections import Counter

import pandas as pd

from fairprobe.llm import TransformersChat
from fairprobe.twins.text import LLMRewriter, TextTwinGenerator
from fairprobe.twins.text.samples import labelled_resumes


def profiles(n: int):
    table = labelled_resumes(200, seed=3, signal_rate=1.0)
    table = table[table["format"].isin(["bio", "cover"]) & (table["signals"].str.len() > 0)]
    return table.head(n).reset_index(drop=True)


def main(n: int = 4, models: str = "smollm2,gemma3") -> None:
    table = profiles(n)
    data = table[["profile", "sex", "race"]]
    print(f"# {n} labelled profiles (bios and cover letters with a sex signal), sex twins, 1 torch thread, greedy, "
          f"no retries; {platform.machine()}, Python {platform.python_version()}")
    print(f"{'model':12s} {'mode':9s} {'twins':>5s} {'seconds':>8s} {'accepted':>9s} {'fell back':>10s}  details")
    for key in models.split(","):
        chat = TransformersChat.smollm2() if key == "smollm2" else TransformersChat.gemma3_270m()
        start = time.perf_counter()
        chat.chat([{"role": "user", "content": "Hello"}], max_tokens=1)
        print(f"{key:12s} load {time.perf_counter() - start:.1f} s")
        for mode, tokens in (("edit", 200), ("whole", 220), ("sentence", 48)):
            rewriter = LLMRewriter(chat, mode=mode, retries=0, max_tokens=tokens, prefill=mode == "edit")
            start = time.perf_counter()
            twins = TextTwinGenerator("profile", race=None, rewriter=rewriter).generate(
                data, ["sex"], seed=0, targets=pd.DataFrame({"sex": ["female", "male"]}))
            seconds = time.perf_counter() - start
            stats = rewriter.stats
            units = stats["accepted"] + stats["fell back to rules"]
            reasons = {k.removeprefix("rejected: "): v for k, v in stats.items() if k.startswith("rejected")}
            edits = {k: v for k, v in stats.items() if k.startswith("edits")}
            unlisted = Counter({k.removeprefix("unlisted signal: "): v for k, v in stats.items()
                                if k.startswith("unlisted signal: ")})
            print(f"{key:12s} {mode:9s} {len(twins):5d} {seconds:8.1f} {stats['accepted'] / max(units, 1):9.0%} "
                  f"{stats['fell back to rules'] / max(units, 1):10.0%}  {units} "
                  f"{'sentences' if mode == 'sentence' else 'profiles'}; all twins valid: {bool(twins.valid.all())}")
            print(f"{'':22s} rejections: {reasons}")
            if mode == "edit":
                print(f"{'':22s} edits: {edits}; spans outside the lexicon (reported, not applied): "
                      f"{dict(unlisted.most_common(8))}")
        if key == "smollm2":
            from fairprobe.adapters import LLMDecisionAdapter

            screener = LLMDecisionAdapter(chat, "{text}\nShould we invite this candidate to an interview? Answer yes or no.")
            start = time.perf_counter()
            screener.predict(data[["profile"]])
            seconds = time.perf_counter() - start
            print(f"{key:12s} screener: {n} queries in {seconds:.1f} s, {n / seconds:.2f} queries/s (next-token probabilities)")
    print("(twins/min = 60 x twins / seconds)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4, sys.argv[2] if len(sys.argv) > 2 else "smollm2,gemma3")
