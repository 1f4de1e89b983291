"""Text twins: a profile (resume, bio, cover letter) rewritten so that only its protected signals change.

The package follows the jobs of a text twin:

- :mod:`~fairprobe.twins.text.names`: who the profile is about, found in the text when the table has
  no name columns (header line, "My name is", a signature, an email address), and every mention of
  the name (any case, possessives, "Ms. Baker", nicknames, email addresses, profile URLs, handles).
- :mod:`~fairprobe.twins.text.rewrite`: :class:`Rewriter`, the deterministic baseline: names, pronouns
  ("her" becomes "him" or "his" as the next words need), the swap lexicon's words where its context
  rules say they describe the subject ("women's chess team", "a proud mother of two"), titles, age cues.
- :mod:`~fairprobe.twins.text.validate`: :func:`validate` checks any twin, whoever wrote it, and says why
  it fails with typed :class:`Rejection` reasons.
- :mod:`~fairprobe.twins.text.residual`: signals no swap can remove (women's colleges, HBCUs, identity-based
  associations), from lists with provenance, and :class:`ResidualAudit`, which needs no list.
- :mod:`~fairprobe.twins.text.generator`: :class:`TextTwinGenerator` (``twins="rewrite"``) makes twins of a
  table with a text column, by the rules or by :class:`LLMRewriter`.
- :mod:`~fairprobe.twins.text.llm_rewrite`: :class:`LLMRewriter` (whole, sentence or edit mode) with its
  replay cache.
- :mod:`~fairprobe.twins.text.render`: :func:`render_table` and :class:`RenderedTwinGenerator` write a table
  and its tabular twins (flip, CVAE) as profiles (:class:`TemplateRenderer`, :class:`LLMRenderer`).
- :mod:`~fairprobe.twins.text.similarity`: :class:`MaskedSimilarity`, embeddings with the signals masked.
- :mod:`~fairprobe.twins.text.samples`: a labelled set of resumes in varied formats, for tests and benchmarks.

Word lists come from :mod:`fairprobe.twins.lexicons` (names checked against census data; gendered
word pairs from published counterfactual-data-augmentation lists; residual signals), each with its
sources' provenance.
"""

from fairprobe.twins.text.generator import TextTwinGenerator
from fairprobe.twins.text.llm_rewrite import AGE_HINT, PROMPTS, PRONOUN_HINT, LLMRewriter, ask_cached, parse_edits
from fairprobe.twins.text.names import Mention, find_person, name_mentions, replace_names
from fairprobe.twins.text.render import (
    GROUP_ALIASES, LLMRenderer, RenderedTwinGenerator, TemplateRenderer, render_table)
from fairprobe.twins.text.residual import ResidualAudit, residual_signals
from fairprobe.twins.text.rewrite import Rewriter, pick_name, swap_words
from fairprobe.twins.text.signals import FEMALE, MALE, Person
from fairprobe.twins.text.similarity import MaskedSimilarity, mask_signals
from fairprobe.twins.text.validate import Reason, Rejection, validate

__all__ = ["AGE_HINT", "FEMALE", "GROUP_ALIASES", "LLMRenderer", "LLMRewriter", "MALE", "MaskedSimilarity", "Mention",
           "PROMPTS", "PRONOUN_HINT", "Person", "Reason", "Rejection", "RenderedTwinGenerator", "ResidualAudit",
           "Rewriter", "TemplateRenderer", "TextTwinGenerator", "ask_cached", "find_person", "mask_signals",
           "name_mentions", "parse_edits", "pick_name", "render_table", "replace_names", "residual_signals",
           "swap_words", "validate"]
