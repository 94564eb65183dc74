"""The experiment config: datasets x models x strategies x dimensions, validated with pydantic.

A YAML file such as

```yaml
name: quickstart
seed: 0
max_cost: 5.00                      # USD for this invocation; stops cleanly when reached
dimensions: [polarity, emotion, valence, arousal]
datasets:
  - {name: emotion6, path: ../shared/datasets/emotion6, limit: 50}
models:
  - {name: gpt-4o, adapter: openai, model: gpt-4o, concurrency: 16, rpm: 500}
strategies: [zero-shot, {name: few-shot, k_shot: 3}]
```

is read by `load_config` into an `ExperimentConfig`. Every validation error names the key at fault
(`models[1].concurrency`) and says how to fix it; unknown keys get a "did you mean" suggestion.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from engine.datasets.base import DIMENSIONS
from engine.errors import ConfigError
from engine.secrets import SECRET_KEYS, is_secret_key, scrub, scrub_text, secret_key_paths, url_credential_problem

__all__ = ["DatasetConfig", "ModelConfig", "StrategyConfig", "ExperimentConfig", "PriceConfig",
           "load_config", "parse_config", "SECRET_KEYS", "is_secret_key"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _scale(value: Any, where: str) -> tuple[float, float]:
    if isinstance(value, str) and "-" in value.strip()[1:]:
        low, _, high = value.strip().partition("-") if not value.strip().startswith("-") else ("", "", "")
        value = [low, high]
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{where}: a scale is two numbers, low and high, e.g. [1, 9] or \"1-9\"")
    low, high = float(value[0]), float(value[1])
    if not low < high:
        raise ValueError(f"{where}: scale low {low:g} must be below high {high:g}")
    return low, high


def _scales(value: Any) -> dict[str, tuple[float, float]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("scales is a mapping such as {valence: [1, 9], arousal: [1, 9]}")
    out = {}
    for dim, scale in value.items():
        if dim not in ("valence", "arousal", "intensity"):
            raise ValueError(f"scales.{dim}: only valence, arousal and intensity take a scale")
        out[dim] = _scale(scale, f"scales.{dim}")
    return out


def _taxonomy(value: str | None) -> str | None:
    if value is None:
        return None
    from engine.taxonomy import TAXONOMIES
    if value not in TAXONOMIES:
        close = difflib.get_close_matches(value, list(TAXONOMIES), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown taxonomy {value!r}{hint}; choose one of: {', '.join(sorted(TAXONOMIES))}")
    return value


class _LabelsAndScales(BaseModel):
    """Checks shared by a dataset entry and the experiment: taxonomy names and scales."""

    @field_validator("taxonomy", "polarity_taxonomy", check_fields=False)
    @classmethod
    def _check_taxonomy(cls, value: str | None) -> str | None:
        return _taxonomy(value)

    @field_validator("scales", mode="before", check_fields=False)
    @classmethod
    def _check_scales(cls, value: Any) -> dict[str, tuple[float, float]]:
        return _scales(value)


class DatasetConfig(_LabelsAndScales):
    """One `datasets:` entry. Keys other than those below go to the dataset loader (e.g. `image_col`)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str | None = None
    path: str | None = None
    format: str | None = None  # loader name; detected from the folder when absent
    limit: int | None = Field(default=None, ge=1)
    split: str | None = None  # evaluate only this subset (a split name or a `splits` key)
    items: list[str] | None = None  # evaluate only these item ids (like `limit`, not part of the run id)
    holdout: int | None = Field(default=None, ge=1)  # training pool size for a dataset without a train split
    taxonomy: str | None = None  # override the dataset's label set
    polarity_taxonomy: str | None = None  # polarity2 | polarity3 (detected from the gold when absent)
    scales: dict[str, tuple[float, float]] = Field(default_factory=dict)

    @field_validator("items", mode="before")
    @classmethod
    def _item_ids(cls, value: Any) -> list[str] | None:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if value is not None and not value:
            raise ValueError("items is empty; list item ids such as [img_001, img_002] or leave it out")
        return None if value is None else [str(v) for v in value]

    @model_validator(mode="after")
    def _needs_source(self) -> "DatasetConfig":
        if not self.path and not self.name:
            raise ValueError("give a dataset `path` (a folder or manifest file) or a `name`")
        return self

    @property
    def label(self) -> str:
        return self.name or Path(self.path or "dataset").stem

    @property
    def loader_options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class PriceConfig(_Strict):
    """USD per million tokens; overrides the built-in price table (`engine.models.pricing`)."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cached_input: float | None = Field(default=None, ge=0)  # cache reads; default: the family's published ratio
    cache_write: float | None = Field(default=None, ge=0)
    batch: float | None = Field(default=None, gt=0, le=1)  # batch-API multiplier, e.g. 0.5


class ModelConfig(_Strict):
    """One `models:` entry: adapter, model id, client limits and generation settings."""

    name: str
    adapter: str
    model: str = ""
    base_url: str | list[str] | None = None
    api_key_env: str | None = None
    concurrency: int = Field(default=8, ge=1, le=4096)
    rpm: float | None = Field(default=None, gt=0)
    tpm: float | None = Field(default=None, gt=0)
    timeout_s: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, le=50)
    backoff_s: float = Field(default=1.0, ge=0)  # first retry waits up to this long (full jitter)
    backoff_max_s: float = Field(default=60.0, ge=0)
    temperature: float = Field(default=0.0, ge=0)
    max_tokens: int = Field(default=512, ge=1)
    top_p: float | None = Field(default=None, gt=0, le=1)
    seed: int | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    price: PriceConfig | None = None
    strategies: list[str] | None = None  # run only these of the experiment's strategies (by label)
    # vendor batch API (openai, anthropic, gemini): true or {max_requests, max_bytes, poll_s, gather_s, retry,
    # window}; not part of the run id (engine.runner.batch)
    batch: bool | dict[str, Any] | None = None

    @field_validator("batch")
    @classmethod
    def _batch(cls, value: Any) -> Any:
        if value not in (None, False, True) and not isinstance(value, dict):
            raise ValueError("batch is true or a mapping such as {max_requests: 10000, poll_s: 60}")
        return value

    @field_validator("adapter")
    @classmethod
    def _known_adapter(cls, value: str) -> str:
        from engine.models.registry import ADAPTERS
        try:
            ADAPTERS.get(value)
        except KeyError as exc:  # an unknown name: the message has a did-you-mean and the choices
            raise ValueError(str(exc)) from None
        return value

    @field_validator("base_url")
    @classmethod
    def _urls(cls, value: str | list[str] | None) -> str | list[str] | None:
        for url in [value] if isinstance(value, str) else (value or []):
            problem = url_credential_problem(str(url))
            if problem:  # the URL itself is never repeated: it holds the credential
                raise ValueError(f"base_url: never put a credential in the URL ({problem}); give the server "
                                 "address alone and export the key as an environment variable named with "
                                 "api_key_env")
            if not str(url).startswith(("http://", "https://")):
                raise ValueError(f"base_url {url!r} must start with http:// or https://, "
                                 "e.g. http://127.0.0.1:8000/v1")
        if isinstance(value, list) and not value:
            raise ValueError("base_url list is empty; give at least one URL")
        return value

    @field_validator("options")
    @classmethod
    def _no_inline_secret(cls, value: dict[str, Any]) -> dict[str, Any]:
        found = secret_key_paths(value, "options")
        if found:
            raise ValueError(f"{', '.join(found)}: never put a secret in the config; export it as an "
                             "environment variable and name it with api_key_env (the adapter sends it)")
        for where, url in _urls_in(value, "options"):
            problem = url_credential_problem(url)
            if problem:
                raise ValueError(f"{where}: never put a credential in a URL ({problem}); export the key as an "
                                 "environment variable and name it with api_key_env")
        return value

    @model_validator(mode="after")
    def _typed_options(self) -> "ModelConfig":
        """`options` checked against the adapter's options model (`affectlens models show ADAPTER`), and
        `batch:` only where the adapter has a vendor batch API."""
        from engine.models.registry import adapter_info, validate_options
        try:
            validate_options(self.name, self.adapter, self.options)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
        if self.batch and not adapter_info(self.adapter).batch_api:
            from engine.models.registry import ADAPTERS
            able = [e.name for e in ADAPTERS.entries() if e.batch_api]
            raise ValueError(f"model {self.name!r} ({self.adapter}): no vendor batch API; batch works with "
                             f"{', '.join(able)}; remove `batch:` from this model")
        return self

    def spec(self):
        """The adapter's `ModelSpec`."""
        from engine.models.base import GenerateConfig, ModelSpec
        return ModelSpec(
            name=self.name, adapter=self.adapter, model=self.model, base_url=self.base_url,
            api_key_env=self.api_key_env, concurrency=self.concurrency, rpm=self.rpm, tpm=self.tpm,
            timeout_s=self.timeout_s, max_attempts=self.max_attempts,
            generate=GenerateConfig(temperature=self.temperature, max_tokens=self.max_tokens, top_p=self.top_p,
                                    seed=self.seed),
            options=dict(self.options),
        )

    def answer_settings(self) -> dict[str, Any]:
        """Settings that decide the answers (part of the run id): no limits, URLs, prices or secrets."""
        return {"name": self.name, "adapter": self.adapter, "model": self.model, "temperature": self.temperature,
                "max_tokens": self.max_tokens, "top_p": self.top_p, "seed": self.seed, "options": self.options}


class StrategyConfig(_Strict):
    """One `strategies:` entry; a bare string is `{name: that}`."""

    name: str
    label: str | None = None  # the name runs are stored under; default: name plus non-default options
    language: str = "en"
    system_prompt: str | None = None
    shuffle_labels: bool = False
    k_shot: int = Field(default=3, ge=1, le=32)
    n_samples: int = Field(default=5, ge=1, le=64)
    sample_temperature: float = Field(default=0.7, ge=0)
    structured: bool = False
    sample_prompt: str = "cot"  # self-consistency: the one-call strategy each sample uses
    template_dir: str | None = None  # a folder of <lang>/<name>.txt files overriding the packaged templates
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _language(self) -> "StrategyConfig":
        if self.language not in ("en", "zh") and not self.template_dir:
            raise ValueError(f"language {self.language!r} has no templates; choose en or zh, or give a "
                             f"template_dir holding {self.language}/<strategy>.txt files")
        return self

    @property
    def run_label(self) -> str:
        if self.label:
            return self.label
        defaults = StrategyConfig(name=self.name)
        relevant = {"language", "system_prompt", "shuffle_labels", "structured", "template_dir", "extra"}
        from engine.prompts.strategies import STRATEGY_REGISTRY
        found = STRATEGY_REGISTRY.find(self.name) if "+" not in self.name else None
        relevant |= set(getattr(found, "label_options", ()))  # options of this strategy that change its prompt
        changed = [f"{key}={getattr(self, key)}" for key in sorted(relevant)
                   if getattr(self, key) != getattr(defaults, key) and key != "system_prompt"]
        if self.system_prompt:
            changed.append("system_prompt")
        return f"{self.name}[{','.join(changed)}]" if changed else self.name

    def options(self, seed: int):
        from engine.prompts.base import StrategyOptions
        return StrategyOptions(language=self.language, system_prompt=self.system_prompt,
                               shuffle_labels=self.shuffle_labels, seed=seed, k_shot=self.k_shot,
                               n_samples=self.n_samples, sample_temperature=self.sample_temperature,
                               structured=self.structured, sample_prompt=self.sample_prompt,
                               template_dir=self.template_dir, extra=dict(self.extra))


PURPOSES = ("benchmark", "analysis", "probe", "explain")


class ExperimentConfig(_Strict, _LabelsAndScales):
    name: str = "experiment"
    # benchmark: its runs stand for comparison cells; analysis: a side look (the dashboard sidebar) shown on its
    # own; probe and explain runs come from `affectlens explain` and never stand for a benchmark cell.
    purpose: Literal["benchmark", "analysis", "probe", "explain"] = "benchmark"
    seed: int = 0
    max_cost: float | None = Field(default=None, gt=0)
    image_max_side: int = Field(default=1024, ge=16, le=8192)
    dimensions: list[str] = Field(default_factory=lambda: ["polarity"], min_length=1)
    taxonomy: str | None = None  # overrides every dataset's label set
    scales: dict[str, tuple[float, float]] = Field(default_factory=dict)
    prices: dict[str, PriceConfig] = Field(default_factory=dict)  # model id -> price override
    datasets: list[DatasetConfig] = Field(min_length=1)
    models: list[ModelConfig] = Field(min_length=1)
    strategies: list[StrategyConfig] = Field(default_factory=lambda: [StrategyConfig(name="zero-shot")],
                                             min_length=1)

    @field_validator("dimensions", mode="before")
    @classmethod
    def _dimensions(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for dim in value:
            if dim not in DIMENSIONS:
                close = difflib.get_close_matches(str(dim), DIMENSIONS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(f"unknown dimension {dim!r}{hint}; choose from: {', '.join(DIMENSIONS)}")
        return list(dict.fromkeys(value))

    @field_validator("strategies", mode="before")
    @classmethod
    def _strategy_strings(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        return [{"name": v} if isinstance(v, str) else v for v in value or []]

    @model_validator(mode="after")
    def _unique_names(self) -> "ExperimentConfig":
        for what, names in (("models", [m.name for m in self.models]),
                            ("datasets", [d.label for d in self.datasets]),
                            ("strategies", [s.run_label for s in self.strategies])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what}: {', '.join(map(repr, dupes))} appears twice; give each entry its own "
                                 "`name`" + (" or `label`" if what == "strategies" else ""))
        labels = {s.run_label for s in self.strategies}
        for model in self.models:
            unknown = sorted(set(model.strategies or ()) - labels)
            if unknown:
                raise ValueError(f"models.{model.name}.strategies: {', '.join(unknown)} not among the experiment's "
                                 f"strategies ({', '.join(sorted(labels))})")
        return self

    def redacted(self) -> dict[str, Any]:
        """The config as JSON-safe data with every secret-looking value removed."""
        return scrub(self.model_dump(mode="json"))


def _urls_in(value: Any, path: str) -> list[tuple[str, str]]:
    """(path, text) of every string in `value` that looks like a URL."""
    if isinstance(value, str):
        return [(path, value)] if "://" in value else []
    if isinstance(value, dict):
        return [found for k, v in value.items() for found in _urls_in(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [found for i, v in enumerate(value) for found in _urls_in(v, f"{path}[{i}]")]
    return []


# ---------------------------------------------------------------------------------------------------
# loading and error messages

_FIELDS = {"": ExperimentConfig, "datasets": DatasetConfig, "models": ModelConfig, "strategies": StrategyConfig,
           "prices": PriceConfig, "price": PriceConfig}


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _fix(error: dict, raw: Any) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = next((str(p) for p in reversed(loc[:-1]) if isinstance(p, str) and p in _FIELDS), "")
        model = _FIELDS[parent]
        known = list(model.model_fields) if model else []
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(known)}"
        return f"unknown key {key!r}; {hint}"
    if kind == "missing":
        return "required key is missing; add it"
    message = error["msg"].removeprefix("Value error, ")
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type", "bool_parsing"):
        message += f" (got {error.get('input')!r})"
    return message


def parse_config(data: Any, source: str = "config") -> ExperimentConfig:
    """Validate a config mapping; raise ConfigError listing each problem as `key: what to do`."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: an experiment config is a YAML mapping with datasets, models and strategies")
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {_where(e['loc'])}: {_fix(e, data)}" for e in exc.errors()]
        raise ConfigError(scrub_text(f"{source} is not a valid experiment config:\n" + "\n".join(lines))) from None


def load_config(path: str | os.PathLike, substitutions: dict[str, str] | None = None) -> ExperimentConfig:
    """Read and validate a YAML experiment; relative dataset paths are resolved against the file's folder
    when they exist there, else against the working directory. `{key}` placeholders in string values are
    replaced from `substitutions` (the demo uses `{sample}` and `{tiny_llava}`)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"no config file at {path}; see data/configs/ for examples")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(scrub_text(f"{path} is not valid YAML: {exc}")) from None
    if substitutions:
        data = _substitute(data, substitutions)
    if isinstance(data, dict):
        for entry in data.get("datasets") or []:
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                entry["path"] = _resolve(entry["path"], path.parent)
    return parse_config(data, str(path))


def _substitute(value: Any, subs: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in subs.items():
            value = value.replace("{" + key + "}", str(replacement))
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, subs) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, subs) for v in value]
    return value


def _resolve(raw: str, base: Path) -> str:
    candidate = Path(os.path.expanduser(raw))
    if candidate.is_absolute() or candidate.exists():
        return str(candidate)
    beside = base / candidate
    return str(beside) if beside.exists() else str(candidate)
