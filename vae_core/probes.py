"""Inputs that are not MNIST digits, made by code: the out-of-distribution probe sets of the anomaly scores.

Every generator is seeded (same seed -> identical arrays) and returns (n, 784) float32 in [0, 1], white on black like
MNIST; content is centred by its centre of mass where there is content to centre. Nothing is downloaded: letters are
rendered from the font Pillow ships (`ImageFont.load_default(size=...)`, Pillow >= 10.1 with FreeType).
"""
from __future__ import annotations

import string

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .preprocess import SIDE, centre_by_mass, to_mnist

PROBE_NAMES = ("noise", "inverted", "nearly_blank", "strokes", "dots", "rotated_90", "rotated_180", "letters")
# letters of both cases and symbols; no digits (those are in-distribution). `letters` cycles through them in order
CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + "+=?!#%&@*<>$"
SUPERSAMPLE = 4  # strokes and dots are drawn 4x larger and box-averaged down: anti-aliased grey edges like MNIST's


def _rng(seed: int, name: str) -> np.random.Generator:
    """One independent stream per probe set, so a set does not change when another set or its size does."""
    return np.random.default_rng([seed, PROBE_NAMES.index(name)])


def _pick(digits, n: int, rng: np.random.Generator) -> np.ndarray:
    digits = np.asarray(digits, dtype=np.float32).reshape(len(digits), -1)
    return digits[rng.choice(len(digits), n, replace=len(digits) < n)]


def uniform_noise(n: int, seed: int = 0) -> np.ndarray:
    """Every pixel independently uniform on [0, 1]."""
    return _rng(seed, "noise").random((n, SIDE * SIDE), dtype=np.float32)


def inverted(digits, n: int, seed: int = 0) -> np.ndarray:
    """1 - x for n of the given digits (black on white)."""
    return 1.0 - _pick(digits, n, _rng(seed, "inverted"))


def nearly_blank(n: int, seed: int = 0, max_pixels: int = 8) -> np.ndarray:
    """All black but 1..max_pixels faint pixels (intensity 0.05-0.5) at random places."""
    rng = _rng(seed, "nearly_blank")
    out = np.zeros((n, SIDE * SIDE), dtype=np.float32)
    for row in out:
        k = rng.integers(1, max_pixels + 1)
        row[rng.choice(SIDE * SIDE, k, replace=False)] = rng.uniform(0.05, 0.5, k)
    return out


def _draw(shape) -> np.ndarray:
    """Rasterise one shape ('line' or 'ellipse', xy in 28-px units, width) anti-aliased, centred by mass."""
    kind, xy, width = shape
    big = SIDE * SUPERSAMPLE
    im = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(im)
    xy = [v * SUPERSAMPLE for v in xy]
    if kind == "line":
        draw.line(xy, fill=255, width=max(1, round(width * SUPERSAMPLE)))
    else:
        draw.ellipse(xy, fill=255)
    a = np.asarray(im, dtype=np.float32).reshape(SIDE, SUPERSAMPLE, SIDE, SUPERSAMPLE).mean((1, 3)) / 255.0
    return centre_by_mass(a).reshape(-1)


def strokes(n: int, seed: int = 0) -> np.ndarray:
    """One straight stroke each: length 6-24 px, any angle, width 1.5-5 px (MNIST's pen is about 2-3 px)."""
    rng = _rng(seed, "strokes")
    out = []
    for _ in range(n):
        length, angle, width = rng.uniform(6, 24), rng.uniform(0, np.pi), rng.uniform(1.5, 5)
        dx, dy = 0.5 * length * np.cos(angle), 0.5 * length * np.sin(angle)
        out.append(_draw(("line", (14 - dx, 14 - dy, 14 + dx, 14 + dy), width)))
    return np.stack(out)


def dots(n: int, seed: int = 0) -> np.ndarray:
    """One filled ellipse each, radii 1-5 px."""
    rng = _rng(seed, "dots")
    out = []
    for _ in range(n):
        rx, ry = rng.uniform(1, 5, 2)
        out.append(_draw(("ellipse", (14 - rx, 14 - ry, 14 + rx, 14 + ry), 0)))
    return np.stack(out)


def rotated(digits, n: int, seed: int = 0, quarter_turns: int = 1) -> np.ndarray:
    """n of the given digits turned by quarter_turns * 90 degrees anticlockwise, re-centred by mass."""
    if quarter_turns not in (1, 2):
        raise ValueError(f"quarter_turns must be 1 (90 degrees) or 2 (180 degrees), got {quarter_turns}")
    name = "rotated_90" if quarter_turns == 1 else "rotated_180"
    picked = _pick(digits, n, _rng(seed, name)).reshape(n, SIDE, SIDE)
    return np.stack([centre_by_mass(np.rot90(d, quarter_turns)).reshape(-1) for d in picked])


def letter_characters(n: int) -> np.ndarray:
    """The characters `letters(n, ...)` renders, in order: CHARACTERS repeated (the same for every seed)."""
    return np.array([CHARACTERS[i % len(CHARACTERS)] for i in range(n)])


def letters(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(images, characters): letters and symbols rendered with Pillow's built-in font at a random size (40-90 px),
    stroke width (0-3 px) and tilt (-12..12 degrees), then preprocessed exactly like a drawn digit (`to_mnist`)."""
    rng = _rng(seed, "letters")
    chars = letter_characters(n)
    out = []
    for ch in chars:
        size, stroke, tilt = int(rng.integers(40, 91)), int(rng.integers(0, 4)), float(rng.uniform(-12, 12))
        font = ImageFont.load_default(size=size)
        im = Image.new("L", (3 * size, 3 * size), 0)
        ImageDraw.Draw(im).text((size, size // 2), ch, fill=255, font=font, stroke_width=stroke, stroke_fill=255)
        out.append(to_mnist(im.rotate(tilt, resample=Image.Resampling.BICUBIC)))
    return np.stack(out), chars


def probe_sets(digits, n: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """{name: (n, 784) float32} for every name in PROBE_NAMES. `digits` (MNIST images, any shape (N, ...)) are the
    source of the inverted and rotated sets; the letters' characters are `letter_characters(n)`."""
    return {
        "noise": uniform_noise(n, seed),
        "inverted": inverted(digits, n, seed),
        "nearly_blank": nearly_blank(n, seed),
        "strokes": strokes(n, seed),
        "dots": dots(n, seed),
        "rotated_90": rotated(digits, n, seed, 1),
        "rotated_180": rotated(digits, n, seed, 2),
        "letters": letters(n, seed)[0],
    }
