"""Adapters put the model under test behind one interface: batched, counted and cached.

- :mod:`.base`: :class:`Adapter` (batching, the row cache, query counts, output validation) and
  :class:`Predictions`;
- :mod:`.local`: callables, scikit-learn estimators and pipelines, model files, transformers
  text-classification pipelines;
- :mod:`.llm`: a language model asked yes or no.
"""

from fairprobe.adapters.base import Adapter, Predictions, outputs_to_predictions
from fairprobe.adapters.llm import LLMDecisionAdapter
from fairprobe.adapters.local import (
                                      CallableAdapter,
                                      SklearnAdapter,
                                      TextClassificationAdapter,
                                      as_adapter,
                                      load_model,
)

__all__ = [
    "Adapter",
    "CallableAdapter",
    "LLMDecisionAdapter",
    "Predictions",
    "SklearnAdapter",
    "TextClassificationAdapter",
    "as_adapter",
    "load_model",
    "outputs_to_predictions",
]
