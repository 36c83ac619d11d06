"""The engine's exceptions. Each names the problem and the fix; the engine stays usable after any."""


class EngineError(Exception):
    """Base class for everything the engine raises on purpose."""


class InvalidRequestError(EngineError, ValueError):
    """A request or setting is malformed (empty prompt, max_tokens < 1, prompt too long, ...)."""


class ModelLoadError(EngineError, OSError):
    """The model folder is missing or is not a causal language model."""


class CacheTooSmallError(EngineError, MemoryError):
    """The KV budget cannot hold even one request; raise kv_cache_bytes or shorten the prompt."""


class CancelledError(EngineError):
    """``generate`` stopped because its ``should_stop`` callback said so (e.g. Ctrl-C)."""
