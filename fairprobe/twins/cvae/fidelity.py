"""How realistic, faithful and private CVAE twins are: the report kept in the evidence beside every CVAE check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from fairprobe.twins.base import TwinSet
from fairprobe.twins.encoding import TableEncoder

if TYPE_CHECKING:
    from fairprobe.twins.cvae.generator import CVAE


def fidelity_report(cvae: CVAE, twinset: TwinSet, *, seed: int = 0, max_rows: int = 4000) -> dict[str, Any]:
    """How realistic and how faithful the twins are, and how much they reveal; kept in the evidence.

    - per free column and target group: KS (numeric) or total variation (categorical) between the
      twins sent to the group and the real rows of that group nearest to them in the held columns;
    - self-twin consistency: decoding each original with its own protected values (posterior mean,
      most likely category), the share of categorical cells reproduced and the mean absolute error
      of numeric cells in normal-score units;
    - latent leakage: AUC of a logistic regression predicting each protected attribute from the
      posterior mean of z on a held-out half (0.5 means z carries none). A diagnostic of the
      encoder, not of paired twins: the AUC ignores scale, so a posterior mean the MMD penalty
      shrank far inside the posterior's spread can read high while a draw of z (what the decoder
      gets) carries nothing; twins that keep their group's proxies show in the column distances;
    - correlation difference: mean absolute difference between the correlation matrices of the
      encoded free columns, twins against their held-matched real rows, per target group;
    - exact copies: the share of twins whose free columns equal a real row's, beside the same share
      for real rows against the other real rows (a baseline: tables have natural duplicates);
    - distance to the closest record (DCR) on the encoded free columns, median, twins against a
      real half, beside a real holdout half's.
    """
    from scipy.stats import ks_2samp

    from fairprobe.twins.cvae.generator import _keys
    from fairprobe.twins.cvae.sampling import decode
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    original, twins, free = twinset.original, twinset.twins, cvae.free_
    attrs = list(twinset.attributes)
    report: dict[str, Any] = {"columns": {}, "method": "twins vs held-matched real rows of the target group"}
    held_codes = TableEncoder([c for c in cvae.cond_encoder_.columns if c.name in cvae.held_])
    real_group = _keys(original, attrs)
    twin_group = _keys(twins, attrs)
    for group in np.unique(twin_group):
        sent = np.flatnonzero(twin_group == group)
        real = np.flatnonzero(real_group == group)
        if len(real) < 5 or not len(sent):
            continue
        sent = rng.choice(sent, min(len(sent), max_rows), replace=False)
        if held_codes.columns:
            nn_index = NearestNeighbors(n_neighbors=1).fit(held_codes.transform(original.iloc[real]))
            matched = real[nn_index.kneighbors(held_codes.transform(twins.iloc[sent]), return_distance=False)[:, 0]]
        else:
            matched = rng.choice(real, len(sent))
        for code in cvae.free_encoder_.columns:
            a, b = twins[code.name].iloc[sent], original[code.name].iloc[matched]
            if code.kind == "numeric":
                distance = float(ks_2samp(a.dropna(), b.dropna()).statistic) if a.notna().any() and b.notna().any() else None
                kind = "KS"
            else:
                pa = a.astype(str).value_counts(normalize=True)
                pb = b.astype(str).value_counts(normalize=True)
                distance, kind = float(0.5 * pa.sub(pb, fill_value=0).abs().sum()), "TV"
            report["columns"].setdefault(code.name, {"distance": kind, "by_group": {}})["by_group"][group] = distance
        # Correlation difference: the encoded free columns' correlation matrices, twins against matched rows.
        a_enc = cvae.free_encoder_.transform(twins.iloc[sent])
        b_enc = cvae.free_encoder_.transform(original.iloc[matched])
        with np.errstate(invalid="ignore", divide="ignore"):
            diff = np.abs(np.corrcoef(a_enc, rowvar=False) - np.corrcoef(b_enc, rowvar=False))
        upper = diff[np.triu_indices_from(diff, k=1)]
        report.setdefault("correlation_difference", {})[group] = float(np.nanmean(upper)) if np.isfinite(upper).any() else None
    for column in report["columns"].values():
        values = [v for v in column["by_group"].values() if v is not None]
        column["worst"] = max(values) if values else None

    sample = original.iloc[rng.choice(len(original), min(len(original), max_rows), replace=False)]
    with torch.no_grad():
        x = torch.from_numpy(cvae.free_encoder_.transform(sample)).to(cvae.device)
        cond = torch.from_numpy(cvae.condition(sample, seed=seed)).to(cvae.device)
        mu, _ = cvae.net_.encode(x, cond)
        decoded = decode(cvae.net_, cvae.free_encoder_, cvae.derived_, cvae.net_.decode(mu, cond), None)
    consistency = {}
    for code in cvae.free_encoder_.columns:
        truth = sample[code.name].reset_index(drop=True)
        if code.kind == "numeric":
            enc = TableEncoder([code])
            consistency[code.name] = {"mean_abs_error_score": float(np.nanmean(np.abs(
                enc.transform(pd.DataFrame({code.name: decoded[code.name]}))[:, 0] - enc.transform(sample)[:, 0])))}
        else:
            same = (decoded[code.name].astype(str).to_numpy() == truth.astype(str).to_numpy()).mean()
            consistency[code.name] = {"reproduced": float(same)}
    report["self_consistency"] = consistency

    z = cvae.latent(sample)
    leakage = {}
    half = rng.permutation(len(sample))
    fit_rows, test_rows = half[: len(half) // 2], half[len(half) // 2 :]
    for attribute in cvae.protected_:
        labels = sample[attribute].astype(str).to_numpy()
        aucs = []
        for value in np.unique(labels):
            y = labels == value
            if y[fit_rows].all() or not y[fit_rows].any() or y[test_rows].all() or not y[test_rows].any():
                continue
            clf = LogisticRegression(max_iter=500).fit(z[fit_rows], y[fit_rows])
            aucs.append(roc_auc_score(y[test_rows], clf.predict_proba(z[test_rows])[:, 1]))
            if len(np.unique(labels)) == 2:
                break
        leakage[attribute] = float(np.mean(aucs)) if aucs else None
    report["latent_leakage_auc"] = leakage

    from fairprobe.data import row_hashes

    real_keys = row_hashes(original[free].astype(str))
    twin_keys = row_hashes(twins[free].iloc[rng.choice(len(twins), min(len(twins), 20 * max_rows), replace=False)].astype(str))
    halves = rng.permutation(len(original))
    first, second = real_keys[halves[: len(halves) // 2]], real_keys[halves[len(halves) // 2 :]]
    report["exact_copies"] = {"twins": float(np.isin(twin_keys, real_keys).mean()),
                              "real_baseline": float(np.isin(second, first).mean())}
    # Distance to the closest real record on the encoded free columns (median), against the same
    # distance from one real half to the other: twins much closer than real rows are copying.
    half_a = original.iloc[halves[: len(halves) // 2][:max_rows]]
    half_b = original.iloc[halves[len(halves) // 2 :][:max_rows]]
    index = NearestNeighbors(n_neighbors=1).fit(cvae.free_encoder_.transform(half_a))
    twin_rows = twins.iloc[rng.choice(len(twins), min(len(twins), max_rows), replace=False)]
    report["distance_to_closest_record"] = {
        "twins_median": float(np.median(index.kneighbors(cvae.free_encoder_.transform(twin_rows))[0])),
        "real_holdout_median": float(np.median(index.kneighbors(cvae.free_encoder_.transform(half_b))[0])),
    }
    return report
