"""Audit evidence: one bundle per run, complete or marked incomplete, verifiable, optionally signed.

A bundle is a folder under the report directory holding

- ``evidence.json``: schema-versioned record of the run (schema ``fairprobe-evidence``, version 2.1):
  environment, git commit, settings, the session (tests collected and run, complete or not), the gate
  verdict, every check with its numbers, fingerprints of data and model, query counts, redacted
  counterexamples, the redaction settings, and the list of the bundle's files;
- ``report.html``: the same as a document to sign (self-contained: no scripts, no external files);
- ``counterexamples.csv`` and ``impact_ratios.csv`` (NYC Local Law 144 layout);
- ``attestation.intoto.json`` (in-toto v1 Statement, test-result predicate) and, with
  ``fairprobe[exports]``, ``bom.cdx.json`` (CycloneDX 1.6 ML-BOM with a model card);
- ``MANIFEST.sha256``: the SHA-256 of every file above, and nothing else; with ``Evidence(sign_key=...)``
  also ``MANIFEST.sha256.sig``, an Ed25519 signature of the manifest.

A check's ``comparison`` names the side of its bound: ``"<"`` a maximum, ``">"`` a minimum. The acceptable
region is closed (a statistic equal to its bound passes), so every text that shows it (the terminal, JUnit
properties, report.html, the ML-BOM) prints ``<=`` and ``>=`` (``fairprobe.verdicts.sign``).

``fairprobe verify [--expect DIGEST] [--key PUB]`` checks it; :func:`verify` does the same in Python.

What changed in schema version 2.0 (from 1.0): ``files`` (every file of the bundle; the manifest must
list exactly these), ``incomplete`` and ``session`` (collected, ran, complete, exit_status), ``gate``
(the overall verdict), ``redaction`` (columns hashed, text masking, key kind and id, counterexample
limit), ``signoff``, ``exports``, ``signature`` (when signed), per check ``counterexamples_omitted``
(when limited); ``command`` has secret-looking values masked; counterexamples.csv gained a ``probe``
column; the bundle gained impact_ratios.csv, attestation.intoto.json and bom.cdx.json.

What changed in schema version 2.1 (from 2.0; ``fairprobe verify`` and ``fairprobe diff`` read both): a check
that raised is a record with ``verdict`` ``"error"`` and ``error`` (``type``, ``message``, ``where``), no
statistic, interval or n, ``fails_build`` true, its options in ``details.options``; ``gate.verdict`` may be
``ERROR`` and ``gate`` gained ``errors`` and ``counts.error``; ``context.model`` gained ``method`` (how the
identity was taken; an empty ``sha256`` when it could not be), ``reads`` (what a callable reads), and for an
in-memory probe ``answers_sha256`` and ``answers_on`` (the model's answers on the records; ``kind`` ``answers``
when they are the identity); a callable's ``kind`` is ``callable-references`` (was ``callable-source``, a hash
of its source text); ``details.exercised`` of invariance lost the pooled ``positive_share`` (the originals' and
the twins' shares stay); band group labels read ``[18, 40)``; counterexamples.csv gained an ``error`` column
(one line per check that raised); impact_ratios.csv gained ``(not computed)`` rows for each probe's dimensions
no demographic-parity check computed, with the reason.

The modules: :mod:`~fairprobe.evidence.bundle` (Evidence, writing), :mod:`~fairprobe.evidence.gate` (the run's verdict),
:mod:`~fairprobe.evidence.manifest` (verify), :mod:`~fairprobe.evidence.signing` (Ed25519),
:mod:`~fairprobe.evidence.report` (HTML), :mod:`~fairprobe.evidence.exports` (CSV, CycloneDX, in-toto),
:mod:`~fairprobe.redact` (keyed hashes, masking, CSV escaping).
"""

from fairprobe.evidence.bundle import (
                                       ATTESTATION,
                                       BOM,
                                       COUNTEREXAMPLES,
                                       EVIDENCE,
                                       FILES,
                                       IMPACT_RATIOS,
                                       MANIFEST,
                                       REPORT,
                                       REQUIRED,
                                       SCHEMA_VERSION,
                                       SIGNATURE,
                                       Evidence,
                                       clean_partials,
                                       environment,
                                       git_info,
                                       manifest_digest,
)
from fairprobe.evidence.gate import gate
from fairprobe.evidence.manifest import verify
from fairprobe.redact import escape_cell, mask_command, redact_counterexamples
from fairprobe.evidence.report import render_html
from fairprobe.evidence.signing import keygen

__all__ = ["ATTESTATION", "BOM", "COUNTEREXAMPLES", "EVIDENCE", "FILES", "IMPACT_RATIOS", "MANIFEST", "REPORT",
           "REQUIRED", "SCHEMA_VERSION", "SIGNATURE", "Evidence", "clean_partials", "environment", "escape_cell",
           "gate", "git_info", "keygen", "manifest_digest", "mask_command", "redact_counterexamples", "render_html",
           "verify"]
