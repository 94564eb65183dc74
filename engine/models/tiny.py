"""A tiny, untrained LLaVA-architecture model built fully offline.

`build_tiny_llava(path)` writes a complete Hugging Face model folder (tokenizer, image processor,
processor with a chat template, config, weights) that loads through `AutoProcessor` and
`AutoModelForImageTextToText` like any hub model. It exists so that the `hf` adapter, batching and
attention maps can be exercised on a machine with no network and no GPU: about 150k parameters,
a few milliseconds per generated token on a CPU.

The weights are random (seeded), so its answers are gibberish tokens. The folder says so three
times: `README.md`, `config.json` (`affectlens_untrained: true`) and the model id it reports.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

#: bump when the recipe changes, so cached folders are rebuilt
TINY_VERSION = 1
MARKER = "affectlens_tiny.json"

IMAGE_SIZE = 32  # pixels; the vision tower sees a 4 x 4 grid of 8-pixel patches
PATCH_SIZE = 8

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['content'] is string %}{% set parts = [{'type': 'text', 'text': message['content']}] %}"
    "{% else %}{% set parts = message['content'] %}{% endif %}"
    "{% if message['role'] == 'system' %}{% for p in parts %}{{ p['text'] }}{% endfor %}{{ '\\n' }}"
    "{% elif message['role'] == 'user' %}USER: {% for p in parts %}"
    "{% if p['type'] == 'image' %}<image>{{ '\\n' }}{% elif p['type'] == 'text' %}{{ p['text'] }}{% endif %}"
    "{% endfor %}{{ '\\n' }}"
    "{% elif message['role'] == 'assistant' %}ASSISTANT: {% for p in parts %}"
    "{% if p['type'] == 'text' %}{{ p['text'] }}{% endif %}{% endfor %}</s>{{ '\\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)

# The text the tokenizer's 400-token vocabulary is learnt from: the words prompts and answers use.
_CORPUS = """
USER: ASSISTANT: What emotion does this image convey? Answer with one word.
Is the sentiment of the image positive or negative? Think step by step, then answer in JSON.
Rate valence and arousal on a scale from 1 to 9. How intense is the emotion, from 1 to 5?
{"polarity": "positive", "emotion": "joy", "valence": 6.5, "arousal": 3.0, "intensity": 4, "confidence": 0.8}
{"polarity": "negative", "emotion": "sadness", "valence": 2.0, "arousal": 5.5, "confidence": 0.6}
amusement awe contentment excitement anger disgust fear sadness happiness surprise neutral contempt
happy sad angry afraid disgusted surprised calm excited content joyful gloomy scared furious
The image shows a person with a smiling face in bright warm light. The scene is dark and cold.
global atmosphere, subject emotion, situational cues, implicit narrative, final answer.
colour lighting objects actions text composition faces expressions background foreground
0 1 2 3 4 5 6 7 8 9 . , : ; ! ? ( ) [ ] { } " ' - +
"""


def build_tiny_llava(path: str | os.PathLike, *, seed: int = 0) -> Path:
    """Build (or reuse) the tiny untrained LLaVA model folder at `path` and return it.

    Idempotent: a folder already built by the same recipe version is returned untouched. The
    folder is written beside `path` and renamed into place, so a half-written model is never seen.
    Needs `torch`, `transformers` and `tokenizers` (`pip install 'affectlens[local]'`).
    """
    path = Path(path).expanduser().resolve()
    marker = path / MARKER
    if marker.exists():
        try:
            if json.loads(marker.read_text()).get("version") == TINY_VERSION:
                return path
        except (OSError, ValueError):
            pass
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
    try:
        _write_model(staging, seed)
        _check_reload(staging)
        (staging / MARKER).write_text(json.dumps({"version": TINY_VERSION, "seed": seed, "untrained": True}))
        if path.exists():
            shutil.rmtree(path)
        try:
            staging.rename(path)
        except OSError:
            if not (path / MARKER).exists():  # nobody else finished the same build meanwhile
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return path


def default_tiny_path() -> Path:
    """Where `affectlens demo` keeps the tiny model: `$AFFECTLENS_CACHE` or ~/.cache/affectlens."""
    root = os.environ.get("AFFECTLENS_CACHE") or Path.home() / ".cache" / "affectlens"
    return Path(root) / f"tiny-llava-untrained-v{TINY_VERSION}"


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<unk>", "<image>"]
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator([line for line in _CORPUS.splitlines() if line.strip()] * 4, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   pad_token="<pad>", extra_special_tokens={"image_token": "<image>"},
                                   model_max_length=512)


def _write_model(folder: Path, seed: int) -> None:
    import torch
    from transformers import (CLIPVisionConfig, GenerationConfig, LlamaConfig, LlavaConfig,
                              LlavaForConditionalGeneration, LlavaProcessor)
    from transformers.models.clip.image_processing_pil_clip import CLIPImageProcessorPil

    tokenizer = _tokenizer()
    # The Pillow image processor: the default one needs torchvision, which is not installable here.
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": IMAGE_SIZE},
                                            crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=PATCH_SIZE,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1,
                               chat_template=CHAT_TEMPLATE)
    vision = CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
                              image_size=IMAGE_SIZE, patch_size=PATCH_SIZE, projection_dim=64,
                              initializer_range=0.2)
    text = LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                       pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                       eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
                       initializer_range=0.2)  # wide random init: answers vary with the input
    config = LlavaConfig(vision_config=vision, text_config=text,
                         image_token_index=tokenizer.convert_tokens_to_ids("<image>"),
                         vision_feature_select_strategy="default", vision_feature_layer=-1,
                         projector_hidden_act="gelu", affectlens_untrained=True,
                         affectlens_note="random weights: answers are gibberish, for testing the local-model path only")
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(do_sample=False, max_new_tokens=32,
                                               pad_token_id=tokenizer.pad_token_id,
                                               bos_token_id=tokenizer.bos_token_id,
                                               eos_token_id=tokenizer.eos_token_id)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    n_params = sum(p.numel() for p in model.parameters())
    (folder / "README.md").write_text(
        "# tiny-llava-untrained\n\n"
        "**Untrained.** A LLaVA-architecture model (CLIP vision tower + Llama text model) with random, "
        f"seeded weights ({n_params:,} parameters), built offline by `engine.models.tiny.build_tiny_llava`. "
        "Its answers are gibberish tokens. It exists to exercise AffectLens's local-model path "
        "(loading, batching, chat templates, attention maps) without a download or a GPU; "
        "its scores mean nothing.\n")


def _check_reload(folder: Path) -> None:
    """Reload through the Auto classes, as the adapter will; AutoProcessor can silently fall back
    to a bare tokenizer when a sub-processor fails to load, so check the type."""
    from transformers import AutoModelForImageTextToText, AutoProcessor, LlavaProcessor

    processor = AutoProcessor.from_pretrained(folder)
    if not isinstance(processor, LlavaProcessor):
        raise RuntimeError(f"tiny model at {folder}: AutoProcessor returned {type(processor).__name__}, "
                           "not LlavaProcessor; the image processor did not load")
    AutoModelForImageTextToText.from_pretrained(folder)
