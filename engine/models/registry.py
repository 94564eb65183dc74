"""The model-adapter registry: each adapter's name, class, typed options and capabilities, declared once.

    @register_adapter("my-api", "my_package.adapter:MyAdapter", remote=True, key_env="MY_API_KEY")
    class MyOptions(AdapterOptions):
        region: Literal["eu", "us"] = "eu"

The decorator goes on the adapter's options model (a pydantic model; unknown keys are refused with a
"did you mean") and names the adapter class by import path, so a provider's SDK is imported only when a
model using it is created. A plugin may decorate its adapter class itself (`options=` then names the
options model). The built-in declarations live in `engine.models.catalog`; the runner, config
validation, the CLI (`affectlens models list|show`) and the dashboard read them from here.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import ConfigError
from engine.registry import Registry, did_you_mean

__all__ = ["AdapterInfo", "AdapterOptions", "ADAPTERS", "MissingDependencyError", "adapter_info",
           "adapter_names", "register_adapter", "validate_options"]

Training = Literal["labels", "images"]


class MissingDependencyError(ImportError):
    """An adapter's optional SDK is not installed; the message says which extra to pip install."""


class AdapterOptions(BaseModel):
    """Options every adapter takes; an adapter's own options model subclasses this one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    price: dict[str, float] | None = Field(
        default=None, description="USD per million tokens {input, output, cached_input, cache_write, batch}; "
                                  "overrides the built-in price table (same as the model's `price:`)")


@dataclass(frozen=True)
class AdapterInfo:
    """What one adapter is and can do. `target` is "module:Class" or the class itself."""

    name: str
    target: Any
    options: type[AdapterOptions] = AdapterOptions
    description: str = ""
    remote: bool = False  # sends requests to a server (cost, keys, rate limits) rather than answering here
    key_envs: tuple[str, ...] = ()  # environment variables holding its key, first one preferred
    key_required: bool = False
    extra: str | None = None  # the pip extra that installs its SDK: pip install 'affectlens[EXTRA]'
    sdk: str | None = None  # the module that extra provides, checked before the adapter is imported
    batch_api: str | None = None  # "module:Class" of its vendor batch endpoints (`batch:` on the model entry)
    batches_requests: bool = False  # collects concurrent requests into forward batches itself
    structured_output: bool = False  # honours `GenerateConfig.json_schema` with the vendor's structured mode
    logprobs: bool = False
    prompt_blind: bool = False  # answers from the task and image (or a file), never reads the prompt
    dimensions: tuple[str, ...] | None = None  # the dimensions it can answer; None: whatever the prompt asks
    training: Training | None = None  # fits on the training items' gold labels, or on their images too
    baseline: bool = False  # a reference method rather than a model: offered by the dashboard without a key
    default_model: str | None = None  # the model id the dashboard offers for it
    plugin: str | None = field(default=None, compare=False)  # the package a plugin adapter comes from

    @property
    def key_env(self) -> str | None:
        return self.key_envs[0] if self.key_envs else None

    @property
    def local(self) -> bool:
        return not self.remote

    def sdk_available(self) -> bool:
        """Whether its optional SDK is importable (always true without one)."""
        if self.sdk is None:
            return True
        try:
            return importlib.util.find_spec(self.sdk) is not None
        except ImportError:  # a parent package (google of google.genai) is missing
            return False

    def load(self) -> type:
        """The adapter class, importing its module (and SDK) now."""
        if not isinstance(self.target, str):
            return self.target
        if self.sdk is not None:
            try:
                importlib.import_module(self.sdk)
            except ImportError as exc:
                raise MissingDependencyError(
                    f"the {self.name!r} adapter needs the {self.sdk!r} package: "
                    f"pip install 'affectlens[{self.extra}]'") from exc
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)

    def capabilities(self) -> dict[str, Any]:
        """The capabilities as plain data (for `affectlens models list --json` and the docs)."""
        return {"remote": self.remote, "key_env": self.key_env, "key_required": self.key_required,
                "extra": self.extra, "batch_api": bool(self.batch_api), "batches_requests": self.batches_requests,
                "structured_output": self.structured_output, "logprobs": self.logprobs,
                "prompt_blind": self.prompt_blind, "dimensions": list(self.dimensions) if self.dimensions else None,
                "training": self.training, "baseline": self.baseline, "default_model": self.default_model}


def _from_plugin(name: str, loaded: Any) -> AdapterInfo:
    """A plugin adapter class that did not use the decorator: its `Options` model (if any) and `local`."""
    options = getattr(loaded, "Options", AdapterOptions)
    return AdapterInfo(name, loaded, options=options, description=(loaded.__doc__ or "").strip().split("\n")[0],
                       remote=not getattr(loaded, "local", False), plugin=getattr(loaded, "__module__", None))


ADAPTERS: Registry[AdapterInfo] = Registry("adapter", "affectlens.adapters", ("engine.models.catalog",),
                                           _from_plugin)


def register_adapter(name: str, target: Any = None, *, options: type[AdapterOptions] | None = None, **capabilities):
    """Declare an adapter. On an options model: `target` names the adapter class ("module:Class"); on an
    adapter class: it is the target and `options` its options model (default: `AdapterOptions`)."""
    def wrap(obj: Any) -> Any:
        is_options = isinstance(obj, type) and issubclass(obj, AdapterOptions)
        if is_options and target is None:
            raise TypeError(f"register_adapter({name!r}) on an options model needs the adapter's import path")
        info = AdapterInfo(name, target if is_options else obj, options=obj if is_options else
                           (options or AdapterOptions), description=capabilities.pop("description", None)
                           or ((obj.__doc__ or "").strip().split("\n")[0]), **capabilities)
        ADAPTERS.add(name, info, obj)
        return obj
    return wrap


def adapter_names() -> list[str]:
    """Built-in adapters and those installed plugins add (entry points `affectlens.adapters`)."""
    return ADAPTERS.names()


def adapter_info(name: str, model: str = "") -> AdapterInfo:
    """The registered adapter `name`; an unknown one is a `ConfigError` with a did-you-mean."""
    try:
        return ADAPTERS.get(name, f"model {model!r}" if model else "")
    except KeyError as exc:
        raise ConfigError(str(exc)) from None


def validate_options(name: str, adapter: str, options: dict[str, Any]) -> AdapterOptions:
    """`options` checked against the adapter's options model: an unknown key gets a did-you-mean, a wrong
    value says what it must be, each naming the model and the adapter."""
    model = adapter_info(adapter, name).options
    try:
        return model.model_validate(dict(options or {}))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            if error["type"] == "extra_forbidden":
                key = str(error["loc"][-1])
                known = list(model.model_fields)
                hint = did_you_mean(key, known).strip(" ()") or f"known options: {', '.join(known) or 'none'}"
                problems.append(f"unknown option {where!r}; {hint}")
            else:
                problems.append(f"option {where!r}: {error['msg'].removeprefix('Value error, ')}")
        raise ConfigError(f"model {name!r} ({adapter}): " + "; ".join(problems)) from None
