"""The inference engine: paged KV cache, prefix sharing, continuous batching.

Usable on its own for offline batch inference, without SQL::

    from executor.engine import Engine, EngineConfig, Request
    engine = Engine(EngineConfig(model="/path/to/hf-folder"))
    outs = engine.generate([Request(prompt="text", max_tokens=8)])
"""
from .config import EngineConfig
from .errors import (CacheTooSmallError, CancelledError, EngineError, InvalidRequestError,
                     ModelLoadError)
from .request import Output, Request
from .stats import EngineStats

__all__ = ["Engine", "EngineConfig", "Request", "Output", "EngineStats", "EngineError",
           "InvalidRequestError", "ModelLoadError", "CacheTooSmallError", "CancelledError"]


def __getattr__(name):
    # Engine pulls in torch and transformers; import it only when asked for.
    if name == "Engine":
        from .engine import Engine
        return Engine
    raise AttributeError(name)
