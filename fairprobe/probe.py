"""Probe: the one object a user writes. Data and model in, CheckResults (or a failed assert) out."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from fairprobe import checks, gates, settings
from fairprobe.adapters import as_adapter
from fairprobe.base_probe import BaseProbe, records_errors
from fairprobe.checks.invariance import threshold_note
from fairprobe.data import as_column_list, fingerprint_and_keys, plain, require_columns
from fairprobe.errors import InvalidSpec, unknown_choice
from fairprobe.partitioned import PartitionedProbe
from fairprobe.predictions import Predictions, answers_for_valid
from fairprobe.result import CheckResult
from fairprobe.spec import SPEC_SETTINGS, ProbeSpec, check_settings
from fairprobe.twins import TwinSet
from fairprobe.twins.flip import twin_row_keys
from fairprobe.validation import checked_arguments, check_flag, check_optional_count
from fairprobe.verdicts import CheckKind


class Probe(BaseProbe):
    """A model under test, the data to test it on, and the checks to run.

    Parameters
    ----------
    data : DataFrame or path
        The records (a CSV or Parquet path is read).
    model : estimator, callable or Adapter
        A fitted scikit-learn estimator or pipeline, any callable ``DataFrame -> scores or labels``,
        or an adapter from :mod:`fairprobe.adapters`.
    protected : str or list of str
        Protected attributes: the columns twins change.
    label : str, optional
        Ground truth; needed by equalized odds.
    held : list of str, optional
        Qualifications, identical in every twin.
    twins : str or TwinGenerator
        ``"flip"`` (only the protected columns change), ``"cvae"`` (a conditional VAE fitted on the
        data also changes what the protected attributes cause), the path of a saved CVAE, or a
        generator object.
    causes : dict, optional
        For CVAE twins, what each protected attribute causes (``{"race": ["lsat", "ugpa"]}``, or a
        small DAG): its twins move those columns and keep the others. Attributes not named are
        learned by a test of each free column's dependence on them (:mod:`fairprobe.twins.cvae.structure`).
    features : list of str, optional
        Columns sent to the model (default: what a fitted scikit-learn model was fitted on, else
        every column but the label).
    seed, alpha, mode : optional
        Override the session defaults (``--fairprobe-seed`` / ``-alpha`` / ``-mode``).
    positive_label : optional
        The favourable value of the label and the model's favourable class at once, when not 1 / True
        (``positive_label="good"`` for a good/bad label and a model whose classes are good/bad).
    label_positive, model_positive : optional
        Each on its own: the label's favourable value (``label_positive=">50K"``) and the model's favourable
        class (default 1 / True, or the probability of class 1). Use them when they differ, e.g. a model
        trained on 0/1 probed against a ``>50K`` / ``<=50K`` label; not together with ``positive_label``.
        How each output kind is read: README, "What the verdicts mean".
    threshold : float, optional
        Where a score becomes a favourable decision (default 0.5 for probabilities).
    min_group_size : int, optional
        Groups with fewer records (positives or negatives, for equalized odds) are reported but
        left out of the verdict.
    max_records : int, optional
        Twin at most this many records, sampled with the seed.
    text : str, optional
        A column of text profiles (resumes, bios): the model receives it as a list of strings, and
        ``twins="rewrite"`` rewrites it (names, pronouns, subject role nouns) for each target group.
    derived : dict, optional
        Columns computed from others, recomputed in every twin: ``{"age_group": lambda df: ...}``.
        The function takes the rows and returns one value per row; it must reproduce the data's column.
    bands : dict, optional
        Band edges of a numeric protected attribute: ``{"age": [0, 40, 65, 120]}``. Groups are the bands,
        ``[0, 40)``, ``[40, 65)`` and ``[65, 120]``, and a twin moves the raw value into the target band at the
        same within-band quantile.
    redact : list of str, optional
        Columns whose values are replaced by a keyed hash in every result's counterexamples (so in the
        violation text, the terminal and the evidence); the index's name (or ``"index"``) hashes the rows'
        labels (an SSN, a customer id); ``"text"`` also masks names, e-mail addresses and phone numbers in
        text values. The key is ``$FAIRPROBE_REDACT_KEY`` when set, else random. pytest's
        ``--fairprobe-redact`` adds its columns to every probe that has them.
    model_version : str, optional
        The model's version as the team names it (a registry version, a git tag), for the evidence.
    engine : {"local", "ray"}, optional
        Probe partitions of the records instead of holding them: ``data`` may then be a Parquet file
        larger than memory, read a few row groups at a time (``"local"``), or partitions scored as tasks
        on a Ray cluster (``"ray"``); the probe is then a :class:`fairprobe.PartitionedProbe`, a Probe
        that never holds the records (also ``partition_rows=`` and ``ray_address=``).

    Notes
    -----
    At construction the probe scans the columns the model reads for ones that encode a protected
    attribute (:mod:`fairprobe.proxies`); the table is kept as ``probe.proxy_scan`` and in the
    evidence of every check. With flip twins such a column is a :class:`FairprobeWarning`: the
    twins leave it as it was, so the model still sees the original group.

    Examples
    --------
    >>> import fairprobe as fp
    >>> world = fp.worlds.hiring(n=600, seed=1)
    >>> model = lambda df: (df["years_experience"] > 5).to_numpy()
    >>> probe = fp.Probe(data=world.data, model=model, protected=["sex"], label="hired",
    ...                  held=["years_experience"], seed=0)
    >>> str(probe.invariance("sex", max_flip_rate=0.01).verdict)
    'pass'
    """

    def __new__(cls, *args: Any, engine: str | None = None, **kwargs: Any) -> Any:
        # engine= asks for a probe over partitions of the records (a Parquet file, a Ray cluster): the same checks,
        # and a Probe to isinstance (registered below), built here whole since Python runs __init__ only for
        # real subclasses.
        if cls is Probe:
            check_settings(kwargs, engine=engine)
            if engine is not None:
                return PartitionedProbe(*args, engine=engine, **kwargs)
        return super().__new__(cls)

    @checked_arguments("Probe()")
    def __init__(
        self,
        data: Any,
        model: Any,
        *,
        protected: str | Sequence[str],
        label: str | None = None,
        held: str | Sequence[str] | None = None,
        twins: Any = "flip",
        causes: Mapping[str, Sequence[str]] | None = None,
        features: Sequence[str] | None = None,
        seed: int | None = None,
        alpha: float | None = None,
        mode: str | None = None,
        positive_label: Any = None,
        threshold: float | None = None,
        min_group_size: int | None = None,
        max_records: int | None = None,
        name: str | None = None,
        label_positive: Any = None,
        model_positive: Any = None,
        text: str | None = None,
        derived: Mapping[str, Callable[[pd.DataFrame], Any]] | None = None,
        bands: Mapping[str, Sequence[float]] | None = None,
        redact: Sequence[str] | None = None,
        model_version: str | None = None,
        engine: str | None = None,
    ) -> None:
        given = locals()  # the settings named once, in fairprobe.spec: those of the spec go to it
        self.spec = ProbeSpec.build(data, **{name: given[name] for name in SPEC_SETTINGS})
        if causes is not None:
            self.spec = replace(self.spec, twins=_with_causes(self.spec.twins, causes, self.spec))
        self._adopt_model(model, threshold=threshold, positive_label=self.spec.model_positive,
                          texts=text is not None, model_version=model_version)
        self.features = self._resolve_features(self.spec.data)
        self._twinsets: dict[tuple[tuple[str, ...], int], tuple[TwinSet, np.ndarray, dict[str, TwinSet]]] = {}
        self.redact = _redact_columns(redact, self.spec)
        self._group_cache: dict[tuple[str, ...], tuple[np.ndarray, list[str]]] = {}
        self._target_cache: dict[tuple[str, ...], pd.DataFrame] = {}
        self._scan_proxies(self.spec.data, self._grouped_data)

    # ----------------------------------------------------------------- plumbing

    def predict(self, frame: pd.DataFrame) -> Predictions:
        """The model's decisions and scores for ``frame`` (through the probe's cache)."""
        return self.adapter.predict(frame[self.features])

    def _predict_valid(self, twinset: TwinSet, positions: np.ndarray | None = None) -> Predictions:
        """The model's answers for the valid twins; rejected twins are never sent to the model.

        ``positions`` (where the twinset's originals sit in the data) lets flip twins take their row
        hashes from their originals' (:func:`fairprobe.twins.flip.twin_row_keys`)."""
        if twinset.valid.all():
            keys = None
            if positions is not None and not self.spec.derived and not self.spec.bands \
                    and self.predictions.keys is not None:
                keys = twin_row_keys(twinset, positions, self.spec.data, self.features, self.predictions.keys)
            return self.adapter.predict(twinset.twins[self.features], keys=keys)
        return answers_for_valid(self.predict, twinset.twins, twinset.valid)

    @cached_property
    def predictions(self) -> Predictions:
        """The model's answers for every record of the probe's data."""
        return self.adapter.predict(self.spec.data[self.features], keys=self._data_hashes[1])

    @property
    def model_fingerprint(self) -> dict[str, Any]:
        """The adapter's fingerprint and, once the model has answered every record, the SHA-256 of those answers
        (``answers_sha256``): the model's identity when the adapter could not take one."""
        identity = dict(self._adapter_fingerprint)
        if "predictions" not in self.__dict__:  # not asked for: the answers are not computed for this
            return identity
        answers = self._answers_identity
        if identity.get("sha256"):
            return identity | answers
        return identity | answers | {
            "kind": "answers", "sha256": answers["answers_sha256"],
            "method": f"SHA-256 of {answers['answers_on']}; the model itself was not fingerprinted "
                      f"({identity.get('method', 'its adapter gives no fingerprint')})"}

    @cached_property
    def _answers_identity(self) -> dict[str, str]:
        from fairprobe.adapters.identity import answers_identity

        return answers_identity(self.predictions, data_sha256=self.data_fingerprint, rows=len(self.spec.data))

    @cached_property
    def data_fingerprint(self) -> str:
        return self._data_hashes[0]

    @property
    def data_rows(self) -> int:
        return len(self.spec.data)

    @cached_property
    def _data_hashes(self) -> tuple[str, np.ndarray]:
        return fingerprint_and_keys(self.spec.data, self.features)

    def twins(self, attributes: str | Sequence[str]) -> TwinSet:
        """The twins for ``attributes`` (made once, then reused by later checks)."""
        return self._twins(self.spec.attributes(attributes, what="twins"))[0]

    def _twins(self, attrs: tuple[str, ...]) -> tuple[TwinSet, np.ndarray, dict[str, TwinSet]]:
        """Twins, the positions of their originals in the data, and the noise floors' twins where the generator
        makes them (``"self"``: each record's own protected value; ``"null"``: the attribute's link broken)."""
        seed = self._setting("seed", None)
        if (attrs, seed) not in self._twinsets:
            data = self.spec.data
            positions = np.arange(len(data))
            if self.spec.max_records is not None and self.spec.max_records < len(data):
                rng = np.random.default_rng(seed)
                positions = np.sort(rng.choice(len(data), self.spec.max_records, replace=False))
            records = data.iloc[positions].reset_index(drop=True)
            twinset = self.make_twins(records, attrs, seed=seed)
            floors: dict[str, TwinSet] = {}  # the generator's noise floors: self-twins, null twins
            view, held = self.spec.grouped(records), list(self.spec.held)
            if hasattr(self.generator, "self_twins"):
                made = self.generator.self_twins(view, list(attrs), held=held, seed=seed)
                floors["self"] = self.spec.restore(made, records)
            if hasattr(self.generator, "null_twins"):
                made = self.generator.null_twins(view, list(attrs), held=held, seed=seed, targets=self._targets(attrs))
                floors["null"] = self.spec.restore(made, records)
            self._twinsets[attrs, seed] = (twinset, positions, floors)
        return self._twinsets[attrs, seed]

    def make_twins(self, records: pd.DataFrame, attributes: str | Sequence[str], *, seed: int | None = None,
                   fidelity: bool = True) -> TwinSet:
        """Twins of any ``records`` (rows shaped like the probe's data) for ``attributes``, made by the
        probe's generator with its bands and derived columns: what the checks and the hypothesis search use."""
        attrs = self.spec.attributes(attributes, what="twins") if not isinstance(attributes, tuple) else attributes
        seed = self._setting("seed", seed)
        records = records.reset_index(drop=True)
        view, targets = self.spec.grouped(records), self._targets(attrs)
        generator = self.generator
        twinset = generator.generate(view, list(attrs), held=list(self.spec.held), seed=seed, targets=targets)
        learned = getattr(generator, "base", generator)  # a rendering generator wraps a tabular one
        if fidelity and getattr(learned, "name", None) == "cvae":
            from fairprobe.twins.cvae import fidelity_report

            twinset.info["fidelity"] = fidelity_report(learned, twinset, seed=seed)
            twinset.info["cached_fit"] = getattr(learned, "from_cache_", None)
        return self.spec.restore(twinset, records)

    @cached_property
    def _grouped_data(self) -> pd.DataFrame:
        return self.spec.grouped(self.spec.data)

    def _targets(self, attrs: tuple[str, ...]) -> pd.DataFrame:
        """The combinations of ``attrs`` in the data, once per probe: what twins are made for (a generator
        reduces ``targets`` to its distinct combinations, so these rows are all it needs)."""
        key = ("targets", *attrs)
        if key not in self._target_cache:
            # The first row of each group, in data order: drop_duplicates' rows, from the group codes the
            # probe makes once anyway (no second hashing of the attributes' columns).
            codes, names = self._groups(attrs)
            first = np.zeros(len(names), dtype=np.int64)
            first[codes[::-1]] = np.arange(len(codes))[::-1]  # the last write is each code's first row
            self._target_cache[key] = self._grouped_data[list(attrs)].iloc[np.sort(first)].reset_index(drop=True)
        return self._target_cache[key]

    @cached_property
    def generator(self) -> Any:
        """The twin generator, fitted on the probe's data first if it learns (cached on disk inside pytest)."""
        generator: Any = self.spec.twins
        wrapped = getattr(generator, "base", None)  # a rendering generator fits the tabular one it wraps
        learner = generator if wrapped is None else wrapped
        if hasattr(learner, "fitted") and not learner.fitted:
            from fairprobe.twins.cvae import fit_cached

            # Derived columns are recomputed in every twin, so the generator does not model them.
            exclude = [c for c in (self.spec.label, self.spec.text, *self.spec.derived) if c is not None]
            fitted = fit_cached(learner, self._grouped_data, data_sha256=self.data_fingerprint,
                                protected=self.spec.protected, held=self.spec.held, exclude=exclude,
                                cache_dir=settings.current().cache_dir)
            if wrapped is None:
                return fitted
            generator.base = fitted
        return generator

    def _context(self) -> dict[str, Any]:
        return {**super()._context(), "model_calls": self.adapter.calls}

    def _groups(self, attrs: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
        """Group codes of the data for ``attrs``, made once per probe (a million rows cost 0.05-0.1 s)."""
        if attrs not in self._group_cache:
            self._group_cache[attrs] = self.spec.group_codes(self.spec.data, attrs)
        return self._group_cache[attrs]

    # ----------------------------------------------------------------- checks

    @records_errors(CheckKind.INVARIANCE)
    def invariance(
        self,
        attribute: str | Sequence[str],
        *,
        max_flip_rate: float,
        max_score_change: float | None = None,
        max_score_change_rate: float | None = None,
        alpha: float | None = None,
        mode: str | None = None,
        sequential: bool = False,
        budget: int | None = None,
    ) -> CheckResult:
        """Do decisions stay the same between each record and its twins? See :func:`fairprobe.checks.invariance`.

        With ``sequential=True`` the records are scored in seeded random order, looking after 10, 30, 80,
        180 and then every 100 records, and the check stops as soon as an anytime-valid betting confidence sequence decides PASS or FAIL, or at
        ``budget`` records (INCONCLUSIVE): the fewest model queries, for slow models (an LLM screener,
        a remote endpoint). False PASS and false FAIL stay at or under ``alpha`` whenever it stops.
        """
        attrs = self.spec.attributes(attribute, what="invariance")
        alpha, mode = self._setting("alpha", alpha), self._setting("mode", mode)
        sequential = check_flag("sequential", sequential)
        if budget is not None and not sequential:
            raise InvalidSpec("budget= limits a sequential check; pass sequential=True too")
        budget = check_optional_count("budget", budget)
        if sequential:
            from fairprobe.checks.sequential import sequential_invariance

            twinset, positions, floors = self._twins(attrs)
            result = sequential_invariance(
                twinset, lambda at: self.spec.data.iloc[positions[at]], self.predict,
                seed=self._setting("seed", None), threshold=self.adapter.decision_threshold, features=self.features,
                max_flip_rate=max_flip_rate, max_score_change=max_score_change,
                max_score_change_rate=max_score_change_rate, alpha=alpha, mode=mode, budget=budget, floors=floors,
                encoding=self._encoding(attrs))
            return self._finish(self._located(result, attrs, positions))
        twinset, positions, floors = self._twins(attrs)
        everyone = self.predictions
        original = Predictions(everyone.decision[positions],
                               None if everyone.score is None else everyone.score[positions], everyone.threshold,
                               None if everyone.keys is None else everyone.keys[positions])
        twin = self._predict_valid(twinset, positions)
        made = {name: (twins, self._predict_valid(twins)) for name, twins in floors.items()}
        result = checks.invariance(
            twinset, original, twin, max_flip_rate=max_flip_rate, max_score_change=max_score_change,
            max_score_change_rate=max_score_change_rate, alpha=alpha, mode=mode, features=self.features,
            noise_floor=made.get("self"), null_floor=made.get("null"), encoding=self._encoding(attrs),
        )
        return self._finish(self._located(result, attrs, positions))

    def _located(self, result: CheckResult, attrs: tuple[str, ...], positions: np.ndarray) -> CheckResult:
        """An invariance result with its counterexamples named by the data's index, and the proxy scan's findings
        for ``attrs``."""
        index = self.spec.data.index
        for example in result.counterexamples:
            example["row"] = plain(index[positions[example["row"]]])
        return self._with_proxy_findings(result, attrs)

    @records_errors(CheckKind.NO_WORSE_THAN, attributes_at=1)
    def compare(self, baseline: Any, attributes: str | Sequence[str], *, check: str = "invariance",
                max_increase: float = 0.0, alpha: float | None = None, mode: str | None = None,
                seed: int | None = None) -> CheckResult:
        """Is this probe's model no worse than ``baseline`` (the model in production)? See
        :mod:`fairprobe.checks.compare`.

        Both models answer the same records and, for ``check="invariance"``, the same twins; the check gates
        the paired difference (candidate - baseline) of the flip rate, or of the equalized-odds or
        demographic-parity gap, at ``max_increase``. The baseline's fingerprint goes into the evidence.
        """
        from fairprobe.checks import compare

        attrs = self.spec.attributes(attributes, what="compare")
        alpha, mode = self._setting("alpha", alpha), self._setting("mode", mode)
        if check not in ("invariance", "equalized_odds", "demographic_parity"):
            raise unknown_choice("check to compare", check, ["invariance", "equalized_odds", "demographic_parity"])
        other = baseline if isinstance(baseline, Probe) else None
        adapter = other.adapter if other is not None else as_adapter(
            baseline, threshold=getattr(self.adapter, "threshold", None), positive_label=self.spec.model_positive,
            texts=self.spec.text is not None)
        if adapter is self.adapter:
            raise InvalidSpec("compare needs another model as the baseline; this is the probe's own model")

        def ask(frame: pd.DataFrame) -> Predictions:
            return adapter.predict(frame[self.features])

        if check == "invariance":
            twinset, positions, _ = self._twins(attrs)
            everyone = self.predictions
            mine = Predictions(everyone.decision[positions], None)
            theirs = ask(self.spec.data.iloc[positions])
            result = compare.no_worse_invariance(
                twinset, (mine, self._predict_valid(twinset)), (theirs, answers_for_valid(ask, twinset.twins, twinset.valid)),
                max_increase=max_increase, alpha=alpha, mode=mode)
        else:
            if check == "equalized_odds" and self.spec.y_true is None:
                raise InvalidSpec("comparing equalized odds needs ground truth: pass label= to the Probe")
            result = compare.no_worse_group_metric(
                self.spec.y_true, self.predictions.decision, ask(self.spec.data).decision, self._groups(attrs),
                metric=check, max_increase=max_increase, alpha=alpha, mode=mode,  # type: ignore[arg-type]
                seed=self._setting("seed", seed), attributes=attrs)
        result = result.with_context(baseline_model=adapter.fingerprint(), baseline_queries=adapter.queries)
        return self._finish(result)

    def assert_no_worse_than(self, baseline: Any, attributes: str | Sequence[str], **options: Any) -> CheckResult:
        """Like :meth:`compare`, raising :class:`FairnessViolation` when the candidate is worse by more than
        ``max_increase`` (or, in certify mode, when that cannot be ruled out)."""
        __tracebackhide__ = True
        return gates.check(self.compare(baseline, attributes, **options))

    @records_errors(CheckKind.EQUALIZED_ODDS)
    def equalized_odds(
        self,
        attributes: str | Sequence[str],
        *,
        max_gap: float,
        alpha: float | None = None,
        mode: str | None = None,
        min_group_size: int | None = None,
    ) -> CheckResult:
        """Are TPR and FPR within ``max_gap`` across groups? See :func:`fairprobe.checks.equalized_odds`."""
        attrs = self.spec.attributes(attributes, what="equalized odds")
        self._require_label()
        mode = self._setting("mode", mode)
        result = checks.equalized_odds(
            self.spec.y_true, self.predictions.decision, self._groups(attrs), max_gap=max_gap,
            alpha=self._setting("alpha", alpha), mode=mode,
            min_group_size=self._min_group_size(min_group_size), attributes=attrs,
            threshold_note=threshold_note(self.predictions),
        )
        return self._finish(result)

    @records_errors(CheckKind.DEMOGRAPHIC_PARITY)
    def demographic_parity(
        self,
        attributes: str | Sequence[str],
        *,
        max_gap: float | None = None,
        min_ratio: float | None = None,
        alpha: float | None = None,
        mode: str | None = None,
        min_group_size: int | None = None,
    ) -> CheckResult:
        """Are selection rates close across groups? See :func:`fairprobe.checks.demographic_parity`."""
        attrs = self.spec.attributes(attributes, what="demographic parity")
        mode = self._setting("mode", mode)
        result = checks.demographic_parity(
            self.predictions.decision, self._groups(attrs), max_gap=max_gap, min_ratio=min_ratio,
            alpha=self._setting("alpha", alpha), mode=mode,
            min_group_size=self._min_group_size(min_group_size), attributes=attrs,
            threshold_note=threshold_note(self.predictions),
        )
        return self._finish(result)

    # ----------------------------------------------------------------- assertions

def _redact_columns(redact: Sequence[str] | None, spec: ProbeSpec) -> list[str]:
    """``redact=``: columns of the data, the index (by its name, or "index": the rows' labels), or "text" (mask
    names, e-mails and phone numbers in text values)."""
    if redact is None:
        return []
    columns = as_column_list(redact, role="redact")
    index = spec.data.index.name
    require_columns(spec.data, [c for c in columns if c not in ("text", "index") and c != index], role="redact")
    return columns


Probe.register(PartitionedProbe)


def _with_causes(generator: Any, causes: Mapping[str, Sequence[str]], spec: ProbeSpec) -> Any:
    """The probe's generator set to move what ``causes=`` declares (a copy: the object given is not changed)."""
    learner = getattr(generator, "base", generator)  # a rendering generator wraps a tabular one
    if not hasattr(learner, "with_causes"):
        raise InvalidSpec(f"causes= says which columns each protected attribute causes, for generative twins "
                          f"(twins='cvae'); the {getattr(generator, 'name', type(generator).__name__)!r} twins "
                          "change only the protected columns: drop causes= or use twins='cvae'")
    from fairprobe.twins.cvae.structure import check_causes

    check_causes(causes, list(spec.data.columns), protected=spec.protected, held=spec.held)  # before any fit
    if learner is generator:
        return learner.with_causes(causes)
    wrapped = copy.copy(generator)
    wrapped.base = learner.with_causes(causes)
    return wrapped
