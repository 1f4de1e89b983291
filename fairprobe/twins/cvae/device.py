"""Where the CVAE runs (``device=``) and the seeded draws that keep its twins the same on every device.

Every random draw of the CVAE (the order of the training rows, the reparameterisation noise, the
noise abducted into twins, synthetic rows) comes from a :class:`Noise`: a CPU ``torch.Generator``
seeded by the caller, whose numbers are drawn on the CPU and then moved to the device. A CUDA
generator seeded alike draws other numbers (Philox, not the CPU's Mersenne Twister), so twins drawn
there would not be the CPU's twins; drawn on the CPU, twins made on a GPU are the CPU's up to the
floating-point differences of the network's arithmetic. The network's initial weights are drawn on
the CPU too (:func:`fairprobe.twins.cvae.model.seeded_net`).
"""

from __future__ import annotations

from typing import Any

import torch

from fairprobe.errors import InvalidSpec

CHOICES = "'cpu', 'cuda', 'cuda:N', 'mps', 'auto' (CUDA when available, else the CPU) or a torch.device"


def resolve_device(device: Any) -> torch.device:
    """``device`` (one of :data:`CHOICES`) as a ``torch.device`` this machine has; a clear error otherwise."""
    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, torch.device):
        resolved = device
    elif isinstance(device, str):
        try:
            resolved = torch.device(device.strip().lower())  # "CPU" as "auto" and "AUTO" are
        except RuntimeError:
            raise InvalidSpec(f"CVAE device={device!r} is not a device; choose {CHOICES}") from None
    else:
        raise InvalidSpec(f"CVAE device must be a string or a torch.device; got {type(device).__name__} "
                          f"{device!r}; choose {CHOICES}")
    if resolved.type == "cpu":
        return torch.device("cpu")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise InvalidSpec(f"CVAE device={str(resolved)!r}: torch.cuda.is_available() is False on this machine "
                              f"(torch {torch.__version__}); use device='cpu', or device='auto' to take CUDA only "
                              "where there is one")
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise InvalidSpec(f"CVAE device={str(resolved)!r}: this machine has {count} CUDA device(s) "
                              f"(cuda:0 to cuda:{count - 1}); choose one of them, or device='cuda'")
        return resolved
    if resolved.type == "mps":
        if not torch.backends.mps.is_available():
            raise InvalidSpec(f"CVAE device={str(resolved)!r}: torch.backends.mps.is_available() is False on this "
                              "machine; use device='cpu', or device='auto'")
        return resolved
    raise InvalidSpec(f"CVAE device={str(resolved)!r} is not supported; choose {CHOICES}")


class Noise:
    """Seeded draws made on the CPU by one ``torch.Generator`` and moved to ``device``: the same numbers, in the
    same order, whatever the device (the CPU's results bit for bit, another device's up to moving them)."""

    def __init__(self, seed: int, device: torch.device | str = "cpu") -> None:
        self.generator = torch.Generator(device="cpu").manual_seed(seed)
        self.device = torch.device(device)

    def normal(self, shape: tuple[int, ...] | torch.Size) -> torch.Tensor:
        """Standard normal draws."""
        return torch.randn(tuple(shape), generator=self.generator).to(self.device)

    def uniform(self, shape: tuple[int, ...] | torch.Size) -> torch.Tensor:
        """U(0, 1) draws."""
        return torch.rand(tuple(shape), generator=self.generator).to(self.device)

    def permutation(self, n: int) -> torch.Tensor:
        """A random order of ``range(n)``."""
        return torch.randperm(n, generator=self.generator).to(self.device)

    def choice(self, weights: torch.Tensor, n: int, *, replacement: bool = False) -> torch.Tensor:
        """``n`` indices drawn with probability proportional to ``weights`` (per row for a matrix)."""
        return torch.multinomial(weights.cpu(), n, replacement=replacement, generator=self.generator).to(self.device)
