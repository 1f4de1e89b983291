"""Twin generators: records whose protected attributes differ and whose qualifications do not."""

from fairprobe.twins.base import TwinGenerator, TwinSet, group_labels
from fairprobe.twins.flip import FlipGenerator

__all__ = ["FlipGenerator", "TwinGenerator", "TwinSet", "group_labels", "resolve_generator"]

_BY_NAME = {"flip": FlipGenerator}
_LATER = {"cvae": "conditional-VAE twins are not available in this version",
          "rewrite": "text twins are not available in this version",
          "llm": "text twins are not available in this version"}


def resolve_generator(twins) -> TwinGenerator:
    """A generator from a name (``"flip"``) or an object with a ``generate`` method."""
    from fairprobe.errors import InvalidSpec, unknown_choice

    if isinstance(twins, str):
        if twins in _BY_NAME:
            return _BY_NAME[twins]()
        if twins in _LATER:
            raise InvalidSpec(f"twins={twins!r}: {_LATER[twins]}; use twins='flip' or a generator object")
        raise unknown_choice("twin generator", twins, list(_BY_NAME))
    if isinstance(twins, TwinGenerator):
        return twins
    raise InvalidSpec(f"twins must be a generator name ({', '.join(map(repr, _BY_NAME))}) or an object "
                      f"with name and generate(data, attributes, held=, seed=); got {type(twins).__name__}")
