"""Model adapters behind one interface, found by name through a lazy registry.

A provider's module (and its SDK) is imported only when a model that uses it is created, so a
missing optional SDK never breaks `import engine`; it raises an error naming the extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util

from engine.models.base import (ErrorClass, GenerateConfig, ImagePart, Message, ModelAdapter, ModelRequest,
                                ModelResponse, ModelSpec, PrepareContext, TaskSpec, TextPart)

__all__ = ["ErrorClass", "GenerateConfig", "ImagePart", "Message", "ModelAdapter", "ModelRequest",
           "ModelResponse", "ModelSpec", "PrepareContext", "TaskSpec", "TextPart", "ADAPTERS",
           "adapter_names", "create_adapter", "reads_prompt", "MissingDependencyError"]

# adapter name -> (module, class, pip extra or None, SDK module to check)
ADAPTERS: dict[str, tuple[str, str, str | None, str | None]] = {
    "openai": ("engine.models.openai_api", "OpenAIAdapter", "openai", "openai"),
    "openai-compatible": ("engine.models.openai_api", "OpenAICompatibleAdapter", "openai", "openai"),
    "anthropic": ("engine.models.anthropic_api", "AnthropicAdapter", "anthropic", "anthropic"),
    "gemini": ("engine.models.gemini_api", "GeminiAdapter", "gemini", "google.genai"),
    "hf": ("engine.models.hf_local", "HFAdapter", "local", "transformers"),
    "replay": ("engine.models.replay", "ReplayAdapter", None, None),
    "color-affect": ("engine.models.baselines", "ColorAffectBaseline", None, None),
    "features": ("engine.models.features", "FeaturesBaseline", None, None),
    "majority": ("engine.models.baselines", "MajorityBaseline", None, None),
    "uniform": ("engine.models.baselines", "UniformBaseline", None, None),
}


class MissingDependencyError(ImportError):
    pass


def adapter_names() -> list[str]:
    """Built-in adapters and those installed plugins add (entry points `affectlens.adapters`)."""
    from engine import plugins
    return sorted(set(ADAPTERS) | set(plugins.names("affectlens.adapters")))


def reads_prompt(adapter: str) -> bool:
    """Whether the adapter named `adapter` answers from the prompt (its class's `reads_prompt`). An adapter whose
    SDK or plugin is not installed here counts as reading it (every vendor model does)."""
    if adapter in ADAPTERS:
        module_name, class_name, _, sdk = ADAPTERS[adapter]
        if sdk is not None and importlib.util.find_spec(sdk.split(".")[0]) is None:
            return True
        try:
            return bool(getattr(importlib.import_module(module_name), class_name).reads_prompt)
        except ImportError:
            return True
    from engine import plugins
    try:
        cls = plugins.load("affectlens.adapters", adapter)
    except Exception:  # noqa: BLE001 - a broken plugin is reported where it is used, not here
        return True
    return bool(getattr(cls, "reads_prompt", True)) if cls is not None else True


def create_adapter(spec: ModelSpec) -> ModelAdapter:
    """Instantiate the adapter named by `spec.adapter`, importing its SDK (or plugin) only now."""
    if spec.adapter not in ADAPTERS:
        from engine import plugins
        cls = plugins.load("affectlens.adapters", spec.adapter)
        if cls is None:
            raise KeyError(f"model {spec.name!r}: unknown adapter {spec.adapter!r}; "
                           f"choose one of: {', '.join(adapter_names())}")
        return cls(spec)
    module_name, class_name, extra, sdk = ADAPTERS[spec.adapter]
    if sdk is not None:
        try:
            importlib.import_module(sdk)
        except ImportError as exc:
            raise MissingDependencyError(
                f"model {spec.name!r} uses the {spec.adapter!r} adapter, which needs the {sdk!r} package: "
                f"pip install 'affectlens[{extra}]'") from exc
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(spec)
