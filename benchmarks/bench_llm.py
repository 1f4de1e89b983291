"""SmolLM2-135M-Instruct offline on this CPU: LLM twins per minute and their acceptance rate by mode,
and the LLM screener's queries per second.

Usage: python benchmarks/bench_llm.py [PROFILES]
"""

from __future__ import annotations

import platform
import sys
import time

import fairprobe as fp
from fairprobe.adapters import LLMDecisionAdapter
from fairprobe.llm import TransformersChat
from fairprobe.twins.text import LLMRenderer, LLMRewriter, RenderedTwinGenerator, TextTwinGenerator, render_table


def main(n: int = 6) -> None:
    world = fp.worlds.hiring(n=n, seed=9)
    profiles = world.data.assign(profile=world.profiles())
    chat = TransformersChat.smollm2()
    start = time.perf_counter()
    chat.chat([{"role": "user", "content": "Hello"}], max_tokens=1)
    load_s = time.perf_counter() - start
    print(f"# SmolLM2-135M-Instruct (Q4_1 GGUF via transformers), 1 torch thread, greedy; {n} hiring profiles, "
          f"sex twins; {platform.machine()}, Python {platform.python_version()}; load {load_s:.1f} s")
    print(f"{'mode':10s} {'twins':>6s} {'seconds':>8s} {'twins/min':>10s} {'accepted':>9s} {'fell back':>10s}  model calls")
    for mode, tokens in (("whole", 160), ("sentence", 48)):
        rewriter = LLMRewriter(chat, mode=mode, retries=1, max_tokens=tokens)
        start = time.perf_counter()
        twins = TextTwinGenerator("profile", rewriter=rewriter).generate(profiles, ["sex"], seed=0)
        seconds = time.perf_counter() - start
        units = rewriter.stats["accepted"] + rewriter.stats["fell back to rules"]
        print(f"{mode:10s} {len(twins):6d} {seconds:8.1f} {60 * len(twins) / seconds:10.1f} "
              f"{rewriter.stats['accepted'] / units:9.0%} {rewriter.stats['fell back to rules'] / units:10.0%}  "
              f"{rewriter.stats['model calls']} ({units} {'profiles' if mode == 'whole' else 'sentences'})")
        reasons = {k: v for k, v in rewriter.stats.items() if k.startswith("rejected")}
        print(f"{'':10s} rejections: {reasons}")
    # From tables to text: the model writes each profile (original and flip twin) from the row's facts.
    renderer = LLMRenderer(chat, ["years_experience", "degree", "skills_score", "certifications"], max_tokens=96)
    start = time.perf_counter()
    table = render_table(world.data, renderer)
    held = ["years_experience", "degree", "skills_score", "certifications"]
    twins = RenderedTwinGenerator("flip", renderer).generate(table, ["sex"], held=held, seed=0)
    seconds = time.perf_counter() - start
    print(f"{'render':10s} {len(twins):6d} {seconds:8.1f} {60 * len(twins) / seconds:10.1f} "
          f"{twins.valid.mean():9.0%} {'-':>10s}  {renderer.stats['model calls']} (profiles: originals and twins)")
    print(f"{'':10s} rejections: {twins.info['rejection_reasons']}")
    screener = LLMDecisionAdapter(chat, "{text}\nShould we invite this candidate to an interview? Answer yes or no.")
    start = time.perf_counter()
    screener.predict(profiles[["profile"]])
    seconds = time.perf_counter() - start
    print(f"screener: {n} queries in {seconds:.1f} s, {n / seconds:.1f} queries/s (next-token probabilities)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
