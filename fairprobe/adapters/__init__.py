"""Adapters put the model under test behind one interface: batched, counted and cached.

- :mod:`.base`: :class:`Adapter` (batching, the row cache, query counts, output validation) and
  :class:`Predictions`;
- :mod:`.local`: callables, scikit-learn estimators and pipelines, model files, transformers
  text-classification pipelines;
- :mod:`.llm`: a language model asked yes or no;
- :mod:`.http`: models behind an endpoint (MLflow, Open Inference / KServe v2, any JSON API), over the
  transport of :mod:`.endpoint`;
- :mod:`.artifacts`: the file that ships: an ONNX model (onnxruntime) or a torch module.

The endpoint and artifact adapters are loaded on first use (``fp.adapters.MLflowEndpoint``), so that
``import fairprobe`` never imports httpx, onnxruntime or torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fairprobe.adapters.base import Adapter, Predictions, outputs_to_predictions
from fairprobe.adapters.llm import LLMDecisionAdapter
from fairprobe.adapters.local import (
                                      CallableAdapter,
                                      SklearnAdapter,
                                      TextClassificationAdapter,
                                      as_adapter,
                                      load_model,
)

if TYPE_CHECKING:
    from fairprobe.adapters.artifacts import ONNXModel, TorchModel
    from fairprobe.adapters.endpoint import EndpointAdapter
    from fairprobe.adapters.http import HTTPEndpoint, KServeV2, MLflowEndpoint

_LAZY = {
    "EndpointAdapter": "fairprobe.adapters.endpoint",
    "HTTPEndpoint": "fairprobe.adapters.http",
    "KServeV2": "fairprobe.adapters.http",
    "MLflowEndpoint": "fairprobe.adapters.http",
    "ONNXModel": "fairprobe.adapters.artifacts",
    "TorchModel": "fairprobe.adapters.artifacts",
}


def __getattr__(name: str) -> Any:
    # PEP 562: the module holding the class is imported on first access; its heavy imports
    # (httpx, onnxruntime, torch) happen later still, when an adapter is built or first queried.
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "Adapter",
    "CallableAdapter",
    "EndpointAdapter",
    "HTTPEndpoint",
    "KServeV2",
    "LLMDecisionAdapter",
    "MLflowEndpoint",
    "ONNXModel",
    "Predictions",
    "SklearnAdapter",
    "TextClassificationAdapter",
    "TorchModel",
    "as_adapter",
    "load_model",
    "outputs_to_predictions",
]
