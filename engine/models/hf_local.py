"""Local Hugging Face image-text-to-text models (`adapter: hf`).

Loads any model `AutoModelForImageTextToText` knows (LLaVA, Qwen2-VL, Idefics, Gemma 3, ...) with its
`AutoProcessor`, from a local folder or a hub id. Concurrent `generate` calls are collected into
batches (up to `batch_size`, waiting at most `batch_window_ms` for more) and run in a worker thread,
so the event loop stays free while the model computes. Greedy decoding at temperature 0.

Options (`models: - {adapter: hf, model: PATH_OR_HUB_ID, options: {...}}`):
  device        auto | cpu | cuda | cuda:N | mps      (auto: cuda, then mps, then cpu)
  dtype         auto | float32 | bfloat16 | float16   (auto: bfloat16 on cuda, float16 on mps, float32 on cpu)
  batch_size    most requests per forward batch (default 8)
  batch_window_ms  how long the first request of a batch waits for company (default 5)
  device_map    passed to `from_pretrained` (e.g. "auto" to spread a large model over GPUs)
  attn_implementation  passed to `from_pretrained` (sdpa by default; eager is switched on for attention maps)
  revision, trust_remote_code   passed to `from_pretrained`
  threads       CPU threads torch may use (`torch.set_num_threads`, process-wide); 1 is fastest for tiny models
  tiny          true: build the tiny untrained test model at `model` first (see engine.models.tiny)
`generate.extra` entries that are generation settings (e.g. repetition_penalty) go to `model.generate`;
other vendors' keys there are ignored.

`attention_pass` is the hook behind attention maps (`engine.explain.attention`): one forward pass's
attention weights with the image-token positions and their patch grid.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import AffectLensError
from engine.models.base import (ErrorClass, GenerateConfig, ImagePart, ModelAdapter, ModelRequest,
                                ModelResponse, PrepareContext, TextPart)


@dataclass(frozen=True)
class AttentionPass:
    """What one eager forward pass over prompt (+ answer) gives an attention map (see `attention_pass`)."""

    layers: np.ndarray  # (n_layers, seq, seq): attention averaged over heads, per layer
    queries: np.ndarray  # the query positions (answer tokens, or the last prompt token)
    image_positions: np.ndarray  # positions of the image tokens in the sequence
    grid: tuple[int, int, int]  # (grid_h, grid_w, leading image tokens to skip, e.g. a class token)


class ModelLoadError(AffectLensError):
    """The model folder or hub id could not be loaded; the message says how to get it."""


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass
class _Pending:
    messages: list[dict]
    images: list[Any]  # PIL images, in the order the messages mention them
    config: GenerateConfig
    future: asyncio.Future
    started: float = field(default_factory=time.perf_counter)

    def batch_key(self) -> tuple:
        return (repr(asdict(self.config)), bool(self.images))


class HFAdapter(ModelAdapter):
    name = "hf"
    local = True

    def __init__(self, spec):
        super().__init__(spec)
        opts = dict(spec.options or {})
        self.batch_size = self.typed_options.batch_size  # defaults and checks: engine.models.catalog
        self.batch_window_s = self.typed_options.batch_window_ms / 1000
        self.options = opts
        self.model = None
        self.processor = None
        self.device: str | None = None
        self.dtype_name: str | None = None
        self.load_error: str | None = None
        self.batch_sizes: list[int] = []  # sizes of the forward batches run, for tests and benchmarks
        self._model_lock = threading.Lock()  # one forward pass at a time on the model
        self._load_lock = threading.Lock()
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---------------------------------------------------------------- loading
    def load(self) -> None:
        """Load processor and model (blocking; idempotent). Raises `ModelLoadError` with the fix."""
        with self._load_lock:
            if self.model is None:
                self._load()

    def _load(self) -> None:
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        source = self._resolve_source()
        if self.options.get("threads"):
            torch.set_num_threads(int(self.options["threads"]))
        self.device = _pick_device(self.typed_options.device, torch)
        dtype = _pick_dtype(self.typed_options.dtype, self.device, torch)
        self.dtype_name = str(dtype).replace("torch.", "")
        kwargs: dict[str, Any] = {"dtype": dtype}
        for key in ("revision", "trust_remote_code", "attn_implementation", "device_map"):
            if self.options.get(key) is not None:
                kwargs[key] = self.options[key]
        try:
            processor = AutoProcessor.from_pretrained(
                source, **{k: v for k, v in kwargs.items() if k in ("revision", "trust_remote_code")})
            model = AutoModelForImageTextToText.from_pretrained(source, **kwargs)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(self._load_hint(source, exc)) from exc
        if not hasattr(processor, "image_processor"):
            raise ModelLoadError(
                f"model {self.spec.name!r}: AutoProcessor loaded {type(processor).__name__} from {source}, not a "
                "multimodal processor; its image processor is missing or needs a package that is not installed "
                "(e.g. torchvision for Qwen2-VL)")
        if "device_map" not in kwargs:
            model = model.to(self.device)
        model.eval()
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is not None:
            tokenizer.padding_side = "left"  # decoder-only batching: prompts end where generation starts
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token
        self.processor, self.model = processor, model

    def _resolve_source(self) -> str:
        model = self.spec.model or self.spec.name
        if self.options.get("tiny"):
            from engine.models.tiny import build_tiny_llava

            return str(build_tiny_llava(model))
        path = Path(model).expanduser()
        if path.exists():
            return str(path)
        if not _HUB_ID.match(model) or model.startswith((".", "/", "~")):
            raise ModelLoadError(
                f"model {self.spec.name!r}: no model folder at {path}; point `model:` at a folder holding "
                "config.json and the weights, or give a hub id like 'llava-hf/llava-1.5-7b-hf'")
        return model

    def _load_hint(self, source: str, exc: Exception) -> str:
        if Path(source).exists():
            return f"model {self.spec.name!r}: could not load the folder {source}: {exc}"
        offline = os.environ.get("HF_HUB_OFFLINE") == "1"
        return (f"model {self.spec.name!r}: could not load {source!r} from the Hugging Face hub"
                f"{' (HF_HUB_OFFLINE=1 is set)' if offline else ''}: {str(exc).splitlines()[0].rstrip('.')}. Download it on "
                f"a machine with internet (`hf download {source} --local-dir models/{source.split('/')[-1]}`) "
                "and set `model:` to that folder")

    async def prepare(self, context: PrepareContext) -> None:
        """Load the model before the run starts, so a wrong path fails once, clearly."""
        await asyncio.to_thread(self.load)

    # ---------------------------------------------------------------- generation
    async def generate(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        try:
            messages, images = _chat_messages(request)
        except ValueError as exc:
            return ModelResponse.failure(ErrorClass.IMAGE, f"{request.item_key}: {exc}",
                                         raw_request=request.describe())
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._worker is None or self._worker.done():
            self._loop, self._queue = loop, asyncio.Queue()
            self._worker = loop.create_task(self._batch_worker())
        pending = _Pending(messages, images, request.config, loop.create_future(), started)
        await self._queue.put(pending)
        response: ModelResponse = await pending.future
        response.raw_request = request.describe()
        response.latency_ms = (time.perf_counter() - started) * 1000
        return response

    async def _batch_worker(self) -> None:
        """Collect queued requests into batches of compatible settings and run them one by one."""
        queue = self._queue
        while True:
            batch = [await queue.get()]
            deadline = time.perf_counter() + self.batch_window_s
            while len(batch) < self.batch_size:
                remaining = deadline - time.perf_counter()
                try:
                    batch.append(queue.get_nowait() if remaining <= 0 else
                                 await asyncio.wait_for(queue.get(), remaining))
                except (asyncio.QueueEmpty, asyncio.TimeoutError):
                    break
            groups: dict[tuple, list[_Pending]] = {}
            for pending in batch:
                groups.setdefault(pending.batch_key(), []).append(pending)
            for group in groups.values():
                for pending, response in zip(group, await self._answer(group)):
                    if not pending.future.done():
                        pending.future.set_result(response)

    async def _answer(self, group: list[_Pending]) -> list[ModelResponse]:
        """Run one batch; when it fails, run its requests one by one so one bad request fails alone."""
        try:
            return await asyncio.to_thread(self._run_batch, group)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a stored error
            if len(group) == 1 or isinstance(exc, ModelLoadError):
                return [self._failure(exc) for _ in group]
        return [response for pending in group for response in await self._answer([pending])]

    def _failure(self, exc: Exception) -> ModelResponse:
        if isinstance(exc, ModelLoadError):
            return ModelResponse.failure(ErrorClass.BAD_REQUEST, str(exc))
        if "out of memory" in str(exc).lower():
            return ModelResponse.failure(ErrorClass.SERVER, f"{type(exc).__name__}: out of memory on {self.device}; "
                                         f"lower options.batch_size (now {self.batch_size}) or use a smaller dtype")
        return ModelResponse.failure(ErrorClass.BAD_REQUEST, f"{type(exc).__name__}: {exc}")

    def _run_batch(self, group: list[_Pending]) -> list[ModelResponse]:
        """One batched `model.generate` (worker thread)."""
        import torch

        if self.load_error:
            raise ModelLoadError(self.load_error)
        try:
            self.load()
        except Exception as exc:  # noqa: BLE001 - fail every later request at once, without reloading
            self.load_error = str(exc) if isinstance(exc, ModelLoadError) else \
                f"model {self.spec.name!r} could not be loaded: {type(exc).__name__}: {exc}"
            raise ModelLoadError(self.load_error) from exc
        prompts = [self._prompt(p.messages) for p in group]
        kwargs: dict[str, Any] = {"text": prompts, "return_tensors": "pt", "padding": True}
        if group[0].images:
            kwargs["images"] = [p.images for p in group]
        inputs = self.processor(**kwargs).to(self.model.device)
        if "pixel_values" in inputs and inputs["pixel_values"].is_floating_point():
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        config = group[0].config
        gen: dict[str, Any] = {"max_new_tokens": config.max_tokens, "do_sample": config.temperature > 0}
        if config.temperature > 0:
            gen["temperature"] = config.temperature
            if config.top_p is not None:
                gen["top_p"] = config.top_p
        gen.update(_generation_extras(config.extra))
        tokenizer = self.processor.tokenizer
        gen.setdefault("pad_token_id", tokenizer.pad_token_id)
        with self._model_lock, torch.inference_mode():
            if config.seed is not None:
                torch.manual_seed(config.seed)
            output = self.model.generate(**inputs, **gen)
        self.batch_sizes.append(len(group))
        prompt_len = inputs["input_ids"].shape[1]
        new_tokens = output[:, prompt_len:].cpu()
        eos_ids = _eos_ids(self.model, tokenizer)
        responses = []
        for row, pending in enumerate(group):
            ids = new_tokens[row].tolist()
            stop = next((i for i, t in enumerate(ids) if t in eos_ids), None)
            kept = ids[:stop + 1] if stop is not None else [t for t in ids if t != tokenizer.pad_token_id]
            text = tokenizer.decode(kept, skip_special_tokens=True).strip()
            responses.append(ModelResponse(
                text=text, input_tokens=int(inputs["attention_mask"][row].sum()), output_tokens=len(kept),
                model_id_resolved=self._resolved_id(), stop_reason="stop" if stop is not None else "length",
                raw_response={"text": text, "token_ids": kept, "batch_size": len(group), "device": self.device,
                              "dtype": self.dtype_name}))
        return responses

    def _prompt(self, messages: list[dict]) -> str:
        """The model's own chat template, or a plain LLaVA-style prompt where it has none."""
        if getattr(self.processor, "chat_template", None):
            return self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        token = getattr(self.processor, "image_token", None) or "<image>"
        lines = []
        for message in messages:
            body = "".join(token + "\n" if part["type"] == "image" else part["text"] for part in message["content"])
            lines.append({"system": body, "user": f"USER: {body}", "assistant": f"ASSISTANT: {body}"}[message["role"]])
        return "\n".join(lines) + "\nASSISTANT:"

    def _resolved_id(self) -> str:
        commit = getattr(self.model.config, "_commit_hash", None)
        base = self.spec.model or self.spec.name
        return f"{base}@{commit}" if commit and not Path(base).exists() else base

    # ---------------------------------------------------------------- attention hook
    def attention_pass(self, image: ImagePart, prompt: str, answer: str | None = None) -> AttentionPass:
        """One forward pass with eager attention over `prompt` (with the image) followed by `answer`.

        The hook `engine.explain.attention.attention_map` turns into a map: per layer the head-mean
        attention, the query positions (the answer's tokens, or the last prompt token -- the one that
        produces the first answer token -- when `answer` is None), the image-token positions and the
        vision patch grid they lie on. Blocking; call it from a thread.
        """
        import torch

        self.load()
        pil = _decode(image)
        text = self._prompt([{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": prompt}]}])
        n_prompt = None
        if answer:
            n_prompt = self.processor(text=[text], images=[[pil]], return_tensors="pt")["input_ids"].shape[1]
            text = text + " " + answer
        inputs = self.processor(text=[text], images=[[pil]], return_tensors="pt").to(self.model.device)
        if inputs["pixel_values"].is_floating_point():
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        ids = inputs["input_ids"][0]
        image_positions = torch.nonzero(ids == _image_token_id(self.model, self.processor)).flatten()
        if image_positions.numel() == 0:
            raise ValueError(f"model {self.spec.name!r}: the prompt holds no image tokens; cannot map attention")
        seq = ids.shape[0]
        queries = np.arange(n_prompt, seq) if n_prompt and n_prompt < seq else np.array([seq - 1])
        with self._model_lock, torch.inference_mode():
            previous = getattr(self.model.config, "_attn_implementation", None)
            if previous != "eager":
                self.model.set_attn_implementation("eager")  # sdpa returns no attention weights
            try:
                out = self.model(**inputs, output_attentions=True, return_dict=True)
            finally:
                if previous not in (None, "eager"):
                    self.model.set_attn_implementation(previous)
        layers = [a[0].float().mean(0).cpu().numpy() for a in out.attentions if a is not None]  # (seq, seq) each
        if not layers:
            raise RuntimeError(f"model {self.spec.name!r} returned no attention weights")
        return AttentionPass(np.stack(layers), queries, image_positions.cpu().numpy(),
                             _patch_grid(len(image_positions), inputs, self.model))

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self.model = self.processor = None


def _chat_messages(request: ModelRequest) -> tuple[list[dict], list[Any]]:
    """Messages in the processors' chat-template format, plus the decoded images in order."""
    messages, images = [], []
    for message in request.messages:
        content = []
        for part in message.parts:
            if isinstance(part, TextPart):
                content.append({"type": "text", "text": part.text})
            else:
                images.append(_decode(part))
                content.append({"type": "image"})
        messages.append({"role": message.role, "content": content})
    return messages, images


def _decode(image: ImagePart):
    from PIL import Image, UnidentifiedImageError

    try:
        pil = Image.open(io.BytesIO(image.data))
        pil.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"image {image.sha256[:12]} could not be decoded: {exc}") from exc
    return pil.convert("RGB")


def _generation_extras(extra: dict | None) -> dict:
    """The `generate.extra` entries transformers' GenerationConfig knows; other vendors' keys are skipped."""
    if not extra:
        return {}
    from transformers import GenerationConfig

    known = set(GenerationConfig().to_dict())
    return {key: value for key, value in extra.items() if key in known}


def _pick_device(choice: str, torch) -> str:
    if choice and choice != "auto":
        if choice.startswith("cuda") and not torch.cuda.is_available():
            raise ModelLoadError(f"options.device is {choice!r} but torch sees no CUDA device; use device: cpu")
        return choice
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def _pick_dtype(choice: str, device: str, torch):
    names = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
    if choice and choice != "auto":
        if choice not in names:
            raise ModelLoadError(f"options.dtype {choice!r} is not one of auto, {', '.join(names)}")
        return names[choice]
    if device.startswith("cuda"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float16 if device == "mps" else torch.float32


def _eos_ids(model, tokenizer) -> set[int]:
    eos = getattr(model.generation_config, "eos_token_id", None) or tokenizer.eos_token_id
    return set(eos) if isinstance(eos, (list, tuple)) else {eos}


def _image_token_id(model, processor) -> int:
    for source in (model.config, processor):
        for attr in ("image_token_id", "image_token_index"):
            value = getattr(source, attr, None)
            if isinstance(value, int):
                return value
    return processor.tokenizer.convert_tokens_to_ids(getattr(processor, "image_token", "<image>"))


def _patch_grid(n_tokens: int, inputs, model) -> tuple[int, int, int]:
    """(grid_h, grid_w, leading tokens to skip) for `n_tokens` image tokens of one image."""
    if "image_grid_thw" in inputs:  # Qwen2-VL family: patches merged spatial_merge_size x spatial_merge_size
        t, h, w = (int(v) for v in inputs["image_grid_thw"][0])
        merge = int(getattr(getattr(model.config, "vision_config", None), "spatial_merge_size", 1) or 1)
        if t * (h // merge) * (w // merge) == n_tokens:
            return h // merge, w // merge, 0
    side = int(round(n_tokens ** 0.5))
    if side * side == n_tokens:
        return side, side, 0
    side = int(round((n_tokens - 1) ** 0.5))
    if side * side == n_tokens - 1:  # a class token ahead of the patches
        return side, side, 1
    raise ValueError(f"cannot lay {n_tokens} image tokens on a patch grid for {type(model).__name__}; "
                     "attention maps support single-grid models (LLaVA-1.5, Qwen2-VL and alike)")
