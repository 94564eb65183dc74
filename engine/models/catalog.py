"""The built-in model adapters: each one's typed options and capabilities, in one place.

This module imports no SDK: each declaration names its adapter class by import path, and
`engine.models.create_adapter` imports it (and its SDK) only when a model using it is created.
`affectlens models list` shows these capabilities; `affectlens models show NAME` an adapter's options.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.models.registry import AdapterOptions, register_adapter

ALL = None  # the dimensions a prompt-reading model answers: whatever it is asked

#: the HTTP clients a cloud adapter can send through (engine.models._http; "direct": OpenAI format only)
HttpClient = Literal["aiohttp", "httpx2", "sdk"]


class CloudOptions(AdapterOptions):
    """Options every SDK-backed adapter takes."""

    http_client: HttpClient = Field(default="aiohttp", description=(
        "the HTTP client requests travel through: aiohttp (default), httpx2 or sdk (the SDK's own)"))


class OpenAIFormatOptions(AdapterOptions):
    """Options of the OpenAI Chat Completions adapters."""

    http_client: Literal["direct", "aiohttp", "httpx2", "sdk"] = Field(default="aiohttp", description=(
        "the HTTP client: aiohttp, httpx2, sdk, or direct (the adapter speaks HTTP itself, lowest CPU)"))
    image_detail: Literal["low", "high", "auto"] | None = Field(
        default=None, description="the `detail` of each image part (low: fewer image tokens); unset: the server's")


@register_adapter("openai", "engine.models.openai_api:OpenAIAdapter", remote=True, key_envs=("OPENAI_API_KEY",),
                  key_required=True, extra="openai", sdk="openai", batch_api="engine.models.batch_api:OpenAIBatches",
                  structured_output=True,
                  default_model="gpt-4o-mini", description="OpenAI's Chat Completions API")
class OpenAIOptions(OpenAIFormatOptions):
    pass


@register_adapter("openai-compatible", "engine.models.openai_api:OpenAICompatibleAdapter", remote=True,
                  extra="openai", sdk="openai", structured_output=True,
                  description="any server speaking the OpenAI format (vLLM, SGLang, Ollama, LM Studio); "
                              "base_url may list several; key optional (api_key_env)")
class OpenAICompatibleOptions(OpenAIFormatOptions):
    # direct by default: measured as the lowest CPU per request (bench/bench_clients.py)
    http_client: Literal["direct", "aiohttp", "httpx2", "sdk"] = Field(default="direct", description=(
        "the HTTP client: direct (default: the adapter speaks HTTP itself, lowest CPU), aiohttp, httpx2 or sdk"))


@register_adapter("anthropic", "engine.models.anthropic_api:AnthropicAdapter", remote=True,
                  key_envs=("ANTHROPIC_API_KEY",), key_required=True, extra="anthropic", sdk="anthropic",
                  batch_api="engine.models.batch_api:AnthropicBatches", structured_output=True,
                  default_model="claude-3-5-haiku-latest",
                  description="Anthropic's Messages API")
class AnthropicOptions(CloudOptions):
    structured_output: Literal["native", "tool"] = Field(default="native", description=(
        "how a JSON schema is enforced: native (output_config.format) or tool (a forced tool call)"))
    prompt_cache: bool = Field(default=True, description=(
        "mark the stable prompt prefix for Anthropic's prompt cache (cheaper repeated instructions)"))


@register_adapter("gemini", "engine.models.gemini_api:GeminiAdapter", remote=True,
                  key_envs=("GEMINI_API_KEY", "GOOGLE_API_KEY"), key_required=True, extra="gemini",
                  sdk="google.genai", batch_api="engine.models.batch_api:GeminiBatches", structured_output=True,
                  default_model="gemini-2.0-flash",
                  description="Google's Gemini API (google-genai)")
class GeminiOptions(CloudOptions):
    api_version: str | None = Field(default=None, description="the API version path, e.g. v1beta")


@register_adapter("hf", "engine.models.hf_local:HFAdapter", extra="local", sdk="transformers",
                  batches_requests=True, description="a local Hugging Face image-text-to-text model (transformers)")
class HFOptions(AdapterOptions):
    device: str = Field(default="auto", pattern=r"^(auto|cpu|mps|cuda(:\d+)?)$",
                        description="auto | cpu | cuda | cuda:N | mps (auto: cuda, then mps, then cpu)")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        default="auto", description="auto: bfloat16 on cuda, float16 on mps, float32 on cpu")
    batch_size: int = Field(default=8, ge=1, description="most requests per forward batch")
    batch_window_ms: float = Field(default=5, ge=0, description="how long a batch's first request waits for company")
    device_map: str | dict | None = Field(default=None, description="passed to from_pretrained (e.g. auto)")
    attn_implementation: str | None = Field(default=None, description="passed to from_pretrained (sdpa, eager)")
    revision: str | None = Field(default=None, description="the hub revision (branch, tag or commit)")
    trust_remote_code: bool | None = Field(default=None, description="passed to from_pretrained")
    threads: int | None = Field(default=None, ge=1, description="CPU threads torch may use (process-wide)")
    tiny: bool = Field(default=False, description="build the tiny untrained test model at `model` first")


# Not prompt-blind: the file holds answers a model gave to some prompt, one file per strategy run.
@register_adapter("replay", "engine.models.replay:ReplayAdapter",
                  description="answers read from a file of model outputs made elsewhere")
class ReplayOptions(AdapterOptions):
    file: str | None = Field(default=None, description=(
        "CSV/TSV or JSONL with one row per item (needed: without it every item is a stored error saying so)"))
    id_col: str | None = Field(default=None, description="the item column (default: item_key, item_id, id, ...)")
    text_col: str | None = Field(default=None, description="the answer column (default: answer, text, ...)")


@register_adapter("color-affect", "engine.models.baselines:ColorAffectBaseline", baseline=True, prompt_blind=True,
                  dimensions=("polarity", "emotion", "ranking", "valence", "arousal"),
                  description="valence and arousal from brightness and saturation (Valdez & Mehrabian 1994)")
class ColorAffectOptions(AdapterOptions):
    pass


@register_adapter("features", "engine.models.features:FeaturesBaseline", baseline=True, prompt_blind=True,
                  training="images",
                  dimensions=("polarity", "emotion", "ranking", "valence", "arousal", "intensity", "distribution"),
                  description="hand-crafted affective features and a scikit-learn model fitted on the train split")
class FeaturesOptions(AdapterOptions):
    classifier: Literal["logistic", "svm", "forest", "boosting"] = Field(default="logistic",
                                                                         description="the scikit-learn model")
    side: int = Field(default=128, ge=16, le=2048, description="thumbnail side in pixels")


@register_adapter("majority", "engine.models.baselines:MajorityBaseline", baseline=True, prompt_blind=True,
                  training="labels",
                  dimensions=("polarity", "emotion", "ranking", "valence", "arousal", "intensity", "distribution"),
                  description="the most frequent training label (or the training mean) for every item")
class MajorityOptions(AdapterOptions):
    pass


@register_adapter("uniform", "engine.models.baselines:UniformBaseline", baseline=True, prompt_blind=True,
                  dimensions=("polarity", "emotion", "ranking", "valence", "arousal", "intensity", "distribution"),
                  description="a uniformly random label or value per item, seeded by the item")
class UniformOptions(AdapterOptions):
    seed: int = Field(default=0, description="mixed into the per-item hash")
    polarity_taxonomy: Literal["polarity2", "polarity3"] = Field(default="polarity2",
                                                                 description="the labels polarity is drawn from")
