"""Twin generators: records whose protected attributes differ and whose qualifications do not.

``FlipGenerator`` changes the protected columns only. ``CVAE`` (PyTorch, loaded on first use)
also changes the proxies the protected attributes cause, keeping the held columns.
"""

from pathlib import Path

from fairprobe.twins.base import TwinGenerator, TwinSet, group_codes, group_labels
from fairprobe.twins.flip import FlipGenerator

__all__ = ["CVAE", "CVAEConfig", "FlipGenerator", "TwinGenerator", "TwinSet", "group_codes", "group_labels",
           "resolve_generator"]

_LATER = {"llm": "LLM-written text twins need a language model: pass twins=fp.twins.text.TextTwinGenerator("
                 "text_column, rewriter=fp.twins.text.LLMRewriter(backend))"}


def __getattr__(name: str):
    # torch loads only when CVAE twins are asked for: `import fairprobe` stays light.
    if name in ("CVAE", "CVAEConfig"):
        from fairprobe.twins import cvae

        return getattr(cvae, name)
    if name == "text":
        import importlib

        return importlib.import_module("fairprobe.twins.text")
    raise AttributeError(f"module 'fairprobe.twins' has no attribute {name!r}")


def resolve_generator(twins) -> TwinGenerator:
    """A generator from a name ("flip", "cvae"), a saved CVAE's path, or an object with ``generate``."""
    from fairprobe.errors import InvalidSpec, given, unknown_choice

    if isinstance(twins, Path) or (isinstance(twins, str) and twins.endswith(".safetensors")):
        from fairprobe.twins.cvae import CVAE

        return CVAE.load(twins)
    if isinstance(twins, str):
        if twins == "flip":
            return FlipGenerator()
        if twins == "cvae":
            from fairprobe.twins.cvae import CVAE

            return CVAE()
        if twins in _LATER:
            raise InvalidSpec(f"twins={twins!r}: {_LATER[twins]}")
        raise unknown_choice("twin generator", twins, ["flip", "cvae"])
    if isinstance(twins, TwinGenerator):
        return twins
    raise InvalidSpec(f"twins must be a generator name ('flip', 'cvae'), the path of a saved CVAE, or an object "
                      f"with name and generate(data, attributes, held=, seed=); got {given(twins)}")
