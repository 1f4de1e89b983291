"""The conditional VAE's network, its configuration and its training loop (PyTorch).

Layout after CTGAN's TVAE (encoder, decoder, loss) in nanoGPT's style: a config dataclass, short
functions, a shape comment on each tensor line. Nothing here touches global random state.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from fairprobe.errors import InvalidSpec
from fairprobe.twins.cvae.device import Noise
from fairprobe.twins.encoding import TableEncoder

MMD_ROWS = 256


@dataclass(frozen=True)
class CVAEConfig:
    """Sizes and training settings of the conditional VAE."""

    latent_dim: int = 8
    hidden: int = 128
    epochs: int = 80
    # At most this many optimizer steps, in whole epochs: a step costs about 7 ms here whatever the table,
    # so 80 epochs of Adult's 32,561 rows took 42-51 s, of the hiring world's 4,000 rows 5 s. 1,000 steps
    # are 75 epochs of 4,000 rows and 10 of Adult's, about 7 s (benchmarks/bench_cvae_speed.py).
    max_steps: int = 1000
    batch_size: int = 256
    lr: float = 2e-3
    # KL weight. 0.5-2 kept sampled column shapes best (../shared/notes), but twins decode the posterior,
    # not the prior. Paired twins move a column as far as the two decodes differ: with an informative z
    # the decodes are sharp and a spurious effect moves little (placebo coin on Adult 0.4-0.7 % of twins
    # flipped at 0.3, 1.1-1.5 % at 1.0), but a z that knows the group's proxies keeps them (latent leakage).
    beta: float = 0.3
    # MMD weight between each protected value's sampled latents and the rest's (and each null shadow's,
    # in its own block). It does not lower the latent leakage AUC: it empties z instead. At 5 the
    # posterior means' spread fell to 0.01-0.15 (0.4-0.7 at 0) beside a posterior sd near 0.85, so a
    # draw of z tells the sexes apart no better than chance (AUC 0.49-0.53 at 0, 5 and 20) while the
    # posterior-mean AUC, scale-free, rose (0.61-0.72 at 5 against 0.53-0.63 at 0), and paired twins rest
    # on the abducted noise. Hiring world, 5 seeds: flip rate 1.0 point off the truth on average (1.7
    # at worst) at 5, 1.6 (2.8) at 0, 2.3 (3.8) at 1; at 200 twins kept their group's proxies (12-13 points
    # under, 2 seeds) (benchmarks/RESULTS.md, "CVAE MMD penalty and latent leakage").
    penalty: float = 5.0
    patience: int = 8
    validation: float = 0.15
    k: int = 10  # stochastic twins per record and target value
    autoregressive: bool = True
    # Draw training rows with weight (size of their condition cell) ** -balance: rare cells (women
    # earning >50K in Adult) get more steps; P(free | condition) is unchanged by it. 0 = uniform.
    balance: float = 0.0
    # torch threads while fitting and decoding. One by default: under contention (pytest -n 2, two fits
    # at once) more threads cost 10-30x (../shared/notes); an idle machine may take its cores.
    threads: int = 1
    # Level of the test that decides which free columns an attribute causes (Holm over its free columns;
    # :mod:`.structure`): a column the attribute does not cause moves in at most this share of fits.
    structure_alpha: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        from fairprobe.validation import check_bound, check_count, check_seed

        for name in ("latent_dim", "hidden", "epochs", "max_steps", "batch_size", "patience", "k", "threads"):
            check_count(f"CVAE {name}", getattr(self, name))
        check_bound("CVAE lr (learning rate)", self.lr, 0.0, 1.0)
        check_bound("CVAE validation (share of rows held out for early stopping)", self.validation, 0.0, 0.5)
        check_bound("CVAE structure_alpha (level of the test of what each attribute causes)", self.structure_alpha,
                    0.0, 0.5)
        for name in ("beta", "penalty", "balance"):
            value = getattr(self, name)
            if value != 0:
                check_bound(f"CVAE {name}", value, 0.0, 1e6)
        check_seed(self.seed, name="CVAE seed")
        if not isinstance(self.autoregressive, bool):
            raise InvalidSpec(f"CVAE autoregressive must be True or False; got {self.autoregressive!r}")


class CVAENet(nn.Module):
    def __init__(self, x_dim: int, c_dim: int, n_numeric: int, cfg: CVAEConfig,
                 categorical: list[tuple[int, int]], protected_dim: int = 0) -> None:
        super().__init__()
        h, d = cfg.hidden, cfg.latent_dim
        self.encoder = nn.Sequential(nn.Linear(x_dim + c_dim, h), nn.ReLU(), nn.Linear(h, h), nn.ReLU())
        self.mu = nn.Linear(h, d)
        self.logvar = nn.Linear(h, d)
        first = nn.Linear(d + c_dim, h)
        # The decoder starts blind to the protected values (the first protected_dim condition columns): a
        # paired twin carries over whatever they move, and random initial weights on a value that moves
        # nothing (a fair coin) stayed near their start and moved twins (placebo 0.4-0.8 % of twins
        # flipped, 0.4-0.5 % from zero; hiring-world error 0.9 points on average, 0.5 from zero).
        with torch.no_grad():
            first.weight[:, d : d + protected_dim] = 0.0
        self.decoder = nn.Sequential(first, nn.ReLU(), nn.Linear(h, h), nn.ReLU(), nn.Linear(h, x_dim))
        self.log_sigma = nn.Parameter(torch.full((max(n_numeric, 1),), -1.0))
        # Autoregressive term: each categorical column's logits also read the categories drawn for the
        # categorical columns before it (../shared/notes: +0.01-0.02 on pair trends).
        mask = torch.zeros(x_dim, x_dim)  # (out, in)
        for j, (start, stop) in enumerate(categorical):
            for before_start, before_stop in categorical[:j]:
                mask[start:stop, before_start:before_stop] = 1.0
        self.register_buffer("ar_mask", mask if cfg.autoregressive else torch.zeros(x_dim, x_dim), persistent=False)
        self.ar = nn.Linear(x_dim, x_dim, bias=False)
        nn.init.zeros_(self.ar.weight)
        self.categorical = categorical

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(torch.cat([x, c], dim=1))  # (B, h)
        return self.mu(hidden), self.logvar(hidden).clamp(-10, 5)  # (B, d), (B, d)

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.decoder(torch.cat([z, c], dim=1))  # (B, x_dim): numeric means, flags and category logits

    def autoregressive(self, onehots: torch.Tensor, start: int = 0, stop: int | None = None) -> torch.Tensor:
        """The autoregressive logits of encoded columns ``start:stop`` (all by default) from the categories
        before them; one block at a time when decoding, which costs a fraction of the whole product."""
        mask: torch.Tensor = self.ar_mask  # type: ignore[assignment]
        if stop is None:
            return F.linear(onehots, self.ar.weight * mask)  # (B, x_dim), zero outside categorical logits
        weight = self.ar.weight[start:stop, :start] * mask[start:stop, :start]  # (S, start): only earlier columns
        return F.linear(onehots[:, :start], weight)  # (B, S)


def seeded_net(x_dim: int, c_dim: int, n_numeric: int, cfg: CVAEConfig, categorical: list[tuple[int, int]],
               protected_dim: int, device: torch.device) -> CVAENet:
    """The network with its initial weights drawn from ``cfg.seed`` on the CPU, then moved to ``device``: the same
    starting weights whatever the device (a CUDA generator draws other numbers); global random state untouched."""
    with torch.random.fork_rng(devices=[]), torch.device("cpu"):
        torch.manual_seed(cfg.seed)
        net = CVAENet(x_dim, c_dim, n_numeric, cfg, categorical, protected_dim=protected_dim)
    return net.to(device)


@contextlib.contextmanager
def torch_cpu_settings(threads: int = 1) -> Iterator[None]:
    """Few threads and flush-to-zero while training (../shared/notes: 10-30x slower otherwise)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(before)
        torch.set_flush_denormal(False)


def mmd(z: torch.Tensor, members: torch.Tensor, blocks: int = 1) -> torch.Tensor:
    """Sum over ``blocks`` equal slices of ``members``' columns (the protected values, then each draw of
    their null shadows) of the mean over the slice's groups of the squared MMD between a group's latents
    and the rest's (RBF kernel of width the latent dimension); ``members`` holds one indicator column per
    group. One kernel matrix and one pass for every group: one per group cost 5x the fit on Adult."""
    kernel = torch.exp(-torch.cdist(z, z).pow(2) / (2 * z.shape[1]))  # (B, B)
    total, b = kernel.sum(), float(len(z))  # (), ()
    within = ((kernel @ members) * members).sum(dim=0)  # (G,) sum of K over the group's pairs
    row = members.T @ kernel.sum(dim=1)  # (G,) sum of K from the group to everyone
    n = members.sum(dim=0)  # (G,)
    usable = ((n > 1) & (n < b - 1)).to(z.dtype).reshape(blocks, -1)  # (blocks, G / blocks)
    n_in, n_out = n.clamp(min=1), (b - n).clamp(min=1)  # (G,), (G,)
    squared = within / n_in**2 + (total - 2 * row + within) / n_out**2 - 2 * (row - within) / (n_in * n_out)  # (G,)
    per_block = (squared.reshape(blocks, -1) * usable).sum(dim=1) / usable.sum(dim=1).clamp(min=1)  # (blocks,)
    return per_block.sum()


# --------------------------------------------------------------------------- training


def train(net: CVAENet, encoder: TableEncoder, cfg: CVAEConfig, x: torch.Tensor, c: torch.Tensor,
          group: torch.Tensor, rows: torch.Tensor, val: torch.Tensor, noise: Noise,
          weights: torch.Tensor | None = None, *, progress: bool = False, split: int | None = None,
          ) -> list[dict[str, float]]:
    """Adam on the ELBO over ``rows`` with early stopping on ``val``; the best state is kept. Returns the history.

    ``x``, ``c``, ``group``, ``rows`` and ``val`` are on the network's device already (moved once, not per batch);
    the batch losses are read back once per epoch, so a GPU is not made to wait at every step."""
    optimiser = torch.optim.Adam(net.parameters(), lr=cfg.lr, foreach=True)  # one call per step, not per tensor
    best, best_state, waited, history = float("inf"), None, 0, []
    epochs: Any = range(min(cfg.epochs, math.ceil(cfg.max_steps / math.ceil(len(rows) / cfg.batch_size))))
    if progress:
        with contextlib.suppress(ImportError):
            from tqdm.auto import tqdm
            epochs = tqdm(epochs, desc="fitting CVAE", unit="epoch")
    for epoch in epochs:
        net.train()
        if weights is None:
            perm = rows[noise.permutation(len(rows))]
        else:
            perm = rows[noise.choice(weights, len(rows), replacement=True)]
        losses, sizes = [], []
        for start in range(0, len(perm), cfg.batch_size):
            idx = perm[start : start + cfg.batch_size]
            batch_loss = loss(net, encoder, cfg, x[idx], c[idx], group[idx], noise, split=split)
            optimiser.zero_grad()
            batch_loss.backward()
            optimiser.step()
            losses.append(batch_loss.detach())
            sizes.append(len(idx))
        total = 0.0
        for value, size in zip(torch.stack(losses).tolist(), sizes):  # the same sum as reading each step's loss
            total += value * size
        net.eval()
        with torch.no_grad():
            val_loss = float(loss(net, encoder, cfg, x[val], c[val], group[val], noise, penalty=False))
        history.append({"epoch": epoch, "train": total / len(rows), "validation": val_loss})
        if val_loss < best - 1e-4:
            best, best_state, waited = val_loss, copy.deepcopy(net.state_dict()), 0
        else:
            waited += 1
            if waited >= cfg.patience:
                break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return history


def loss(net: CVAENet, encoder: TableEncoder, cfg: CVAEConfig, x: torch.Tensor, c: torch.Tensor,
         group: torch.Tensor, noise: Noise, *, penalty: bool = True, split: int | None = None,
         ) -> torch.Tensor:
    """The negative ELBO (beta-weighted KL), plus the optional MMD penalty between protected groups; with
    ``split``, ``group`` is cut into blocks of ``split`` columns (the protected values, then each draw of
    their null shadows) penalised apart, so the shadows neither dilute nor add to the protected values'."""
    mu, logvar = net.encode(x, c)  # (B, d), (B, d)
    eps = noise.normal(mu.shape)  # (B, d) drawn on the CPU, moved to the device
    z = mu + eps * torch.exp(0.5 * logvar)  # (B, d)
    out = net.decode(z, c) + net.autoregressive(x)  # (B, x_dim), teacher forcing
    recon = reconstruction(net, encoder, out, x)  # (B,)
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)  # (B,)
    total = (recon + cfg.beta * kl).mean()
    if penalty and cfg.penalty > 0:
        # On the batch's first MMD_ROWS rows (the batch is a random draw): the kernel is quadratic in them.
        members = group[:MMD_ROWS]  # (b, G)
        total = total + cfg.penalty * mmd(z[:MMD_ROWS], members, 1 if split is None else members.shape[1] // split)
    return total


def reconstruction(net: CVAENet, encoder: TableEncoder, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per row: Gaussian NLL of numeric scores, BCE of their indicators, cross-entropy of categories."""
    terms, numeric = [], 0
    for code, start, stop in encoder.spans():
        if code.kind == "numeric":
            log_sigma = net.log_sigma[numeric]
            numeric += 1
            terms.append(0.5 * ((x[:, start] - out[:, start]) / log_sigma.exp()).pow(2) + log_sigma)  # (B,)
            for offset, _ in enumerate(code.flags, start=1):
                terms.append(F.binary_cross_entropy_with_logits(out[:, start + offset], x[:, start + offset],
                                                                reduction="none"))  # (B,)
        else:
            target = x[:, start:stop].argmax(dim=1)  # (B,)
            terms.append(F.cross_entropy(out[:, start:stop], target, reduction="none"))
    return torch.stack(terms, dim=1).sum(dim=1)  # (B,)


def net_from_weights(x_dim: int, c_dim: int, n_numeric: int, cfg: CVAEConfig, categorical: list[tuple[int, int]],
                     weights: dict[str, torch.Tensor], path: str) -> CVAENet:
    """The network of a saved generator on the CPU, loaded from ``weights`` (``path`` names the file in errors).

    Shapes first, on the meta device (no memory): a sidecar naming a network bigger than the weights
    file holds is refused before anything is allocated."""
    from pathlib import Path

    from fairprobe.twins.cvae import io

    try:
        with torch.device("meta"):
            shapes = {k: tuple(v.shape) for k, v in CVAENet(x_dim, c_dim, n_numeric, cfg, categorical).state_dict().items()}
    except (RuntimeError, ValueError, TypeError, OverflowError) as exc:
        raise InvalidSpec(f"{io.damaged(Path(path))} (at {exc!r})") from None
    found = {k: tuple(v.shape) for k, v in weights.items()}
    if shapes != found:
        wrong = sorted(k for k in set(shapes) | set(found) if shapes.get(k) != found.get(k))[:3]
        raise InvalidSpec(f"the CVAE sidecar {io.sidecar(path).name} describes a network whose weights do not "
                          f"match {path!r} ({', '.join(f'{k}: {shapes.get(k)} vs {found.get(k)}' for k in wrong)}"
                          "): one of the two was changed after saving; refit the generator")
    with torch.device("cpu"):
        net = CVAENet(x_dim, c_dim, n_numeric, cfg, categorical)
    try:
        net.load_state_dict(weights)
    except (RuntimeError, KeyError) as exc:
        raise InvalidSpec(f"could not read the CVAE weights in {path!r} ({exc}); the file is damaged or "
                          "belongs to another configuration: refit it") from None
    return net.eval()
