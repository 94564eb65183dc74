"""Model adapters behind one interface, found by name through the adapter registry.

Every adapter is declared once (`engine.models.registry.register_adapter`; the built-ins in
`engine.models.catalog`) with its typed options and capabilities. A provider's module (and its SDK) is
imported only when a model that uses it is created, so a missing optional SDK never breaks
`import engine`; it raises an error naming the extra to install.
"""

from __future__ import annotations

from engine.models.base import (ErrorClass, GenerateConfig, ImagePart, Message, ModelAdapter, ModelRequest,
                                ModelResponse, ModelSpec, PrepareContext, TaskSpec, TextPart)
from engine.models.registry import (ADAPTERS, AdapterInfo, AdapterOptions, MissingDependencyError, adapter_info,
                                    adapter_names, register_adapter, validate_options)

__all__ = ["ErrorClass", "GenerateConfig", "ImagePart", "Message", "ModelAdapter", "ModelRequest",
           "ModelResponse", "ModelSpec", "PrepareContext", "TaskSpec", "TextPart", "ADAPTERS", "AdapterInfo",
           "AdapterOptions", "adapter_info", "adapter_names", "create_adapter", "reads_prompt",
           "register_adapter", "validate_options", "MissingDependencyError"]


def create_adapter(spec: ModelSpec) -> ModelAdapter:
    """Instantiate the adapter named by `spec.adapter` after checking its options, importing its SDK (or
    plugin) only now."""
    info = adapter_info(spec.adapter, spec.name)
    validate_options(spec.name, spec.adapter, spec.options)
    try:
        cls = info.load()
    except MissingDependencyError as exc:
        raise MissingDependencyError(f"model {spec.name!r} uses the {spec.adapter!r} adapter, which needs the "
                                     f"{info.sdk!r} package: pip install 'affectlens[{info.extra}]'") from exc
    return cls(spec)


def reads_prompt(adapter: str) -> bool:
    """Whether the adapter named `adapter` answers from the prompt (not its registered `prompt_blind`); an
    adapter not registered here (a plugin no longer installed) counts as reading it, as every vendor model does."""
    try:
        return not adapter_info(adapter).prompt_blind
    except Exception:  # noqa: BLE001 - unknown or broken: reported where it is used, not here
        return True
