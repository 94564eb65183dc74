"""Image perturbations for grounding probes and occlusion maps (pure functions on Pillow images).

Probes re-ask a model the same question about a changed image; a model whose answer survives a
grayscale copy but flips when the face is cropped away is reading the face, not the palette.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from PIL import Image, ImageEnhance, ImageFilter, ImageOps, ImageStat

from engine.registry import Registry

Transform = Callable[[Image.Image], Image.Image]


@dataclass(frozen=True)
class ProbeInfo:
    """A registered probe: the image transform and what it takes away or changes."""

    name: str
    transform: Transform
    changes: str  # colour | brightness | detail | subject: what a stable answer is shown not to rest on
    description: str = ""


PROBE_REGISTRY: Registry[ProbeInfo] = Registry("probe", None, ("engine.perturb",))


def register_probe(name: str, *, changes: str):
    """Decorator on an image transform `PIL.Image -> PIL.Image`: the probe `name` (strategy `BASE+name`)."""
    def wrap(transform: Transform) -> Transform:
        text = (transform.__doc__ or "").strip().split("\n")[0]
        PROBE_REGISTRY.add(name, ProbeInfo(name, transform, changes, text), transform)
        return transform
    return wrap


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


@register_probe("grayscale", changes="colour")
def grayscale(image: Image.Image) -> Image.Image:
    """Drop every colour, keep the luminance."""
    return ImageOps.grayscale(_rgb(image)).convert("RGB")


@register_probe("brighter", changes="brightness")
def brighten(image: Image.Image, factor: float = 1.6) -> Image.Image:
    """Brighten by `factor`."""
    return ImageEnhance.Brightness(_rgb(image)).enhance(factor)


@register_probe("darker", changes="brightness")
def darken(image: Image.Image, factor: float = 0.45) -> Image.Image:
    """Darken to `factor` of the brightness."""
    return ImageEnhance.Brightness(_rgb(image)).enhance(factor)


@register_probe("hue-shift", changes="colour")
def hue_shift(image: Image.Image, degrees: float = 120.0) -> Image.Image:
    """Rotate every pixel's hue, keeping saturation and value."""
    h, s, v = _rgb(image).convert("HSV").split()
    offset = int(round(degrees / 360.0 * 255)) % 256
    h = h.point(lambda x: (x + offset) % 256)
    return Image.merge("HSV", (h, s, v)).convert("RGB")


@register_probe("blur", changes="detail")
def blur(image: Image.Image, radius: float = 6.0) -> Image.Image:
    """Gaussian blur: the layout and colours stay, the detail goes."""
    return _rgb(image).filter(ImageFilter.GaussianBlur(radius))


@register_probe("no-centre", changes="subject")
def remove_centre(image: Image.Image, fraction: float = 0.5) -> Image.Image:
    """Grey out the central region, where the main subject of most photographs sits."""
    img = _rgb(image).copy()
    w, h = img.size
    box = (int(w * (1 - fraction) / 2), int(h * (1 - fraction) / 2),
           int(w * (1 + fraction) / 2), int(h * (1 + fraction) / 2))
    img.paste((128, 128, 128), box)
    return img


@register_probe("corner-crop", changes="subject")
def keep_border_crop(image: Image.Image) -> Image.Image:
    """Crop to the top-left quadrant: a corner of the scene, usually without the centred subject or face."""
    img = _rgb(image)
    w, h = img.size
    return img.crop((0, 0, max(1, w // 2), max(1, h // 2)))


class _Transforms(Mapping):
    """probe name -> transform, read from the probe registry."""

    def __getitem__(self, name: str) -> Transform:
        found = PROBE_REGISTRY.find(name)
        if found is None:
            raise KeyError(name)
        return found.transform

    def __iter__(self) -> Iterator[str]:
        return iter(PROBE_REGISTRY.names())

    def __len__(self) -> int:
        return len(PROBE_REGISTRY.names())


PROBES: Mapping[str, Transform] = _Transforms()
# "caption-only" is not an image transform: it is the describe-then-judge strategy, run as a probe.
CAPTION_ONLY = "caption-only"


def probe_names() -> list[str]:
    return [*PROBES, CAPTION_ONLY]


@dataclass(frozen=True)
class Cell:
    row: int
    col: int
    box: tuple[int, int, int, int]


def grid_cells(size: tuple[int, int], rows: int, cols: int) -> list[Cell]:
    """The cells of a rows x cols grid over an image of `size` (width, height), row-major; they tile it exactly.

    >>> [c.box for c in grid_cells((10, 4), 2, 2)]
    [(0, 0, 5, 2), (5, 0, 10, 2), (0, 2, 5, 4), (5, 2, 10, 4)]
    """
    w, h = size
    cells = []
    for r in range(rows):
        for c in range(cols):
            cells.append(Cell(r, c, (w * c // cols, h * r // rows, w * (c + 1) // cols, h * (r + 1) // rows)))
    return cells


FILLS = ("grey", "blur", "mean")


def occlude(image: Image.Image, cell: Cell, fill: str = "grey") -> Image.Image:
    """A copy of `image` with one cell masked: flat grey, a heavy blur, or the image's mean colour."""
    img = _rgb(image).copy()
    if fill == "grey":
        img.paste((128, 128, 128), cell.box)
    elif fill == "mean":
        mean = tuple(int(round(v)) for v in ImageStat.Stat(img).mean[:3])
        img.paste(mean, cell.box)
    elif fill == "blur":
        region = img.crop(cell.box).filter(ImageFilter.GaussianBlur(max(4, (cell.box[2] - cell.box[0]) // 4)))
        img.paste(region, cell.box)
    else:
        raise ValueError(f"unknown occlusion fill {fill!r}; choose grey, blur or mean")
    return img
