"""A drawn or uploaded digit, made to look like an MNIST digit: white ink on black, 20 px box, centre of mass centred.

MNIST's recipe (LeCun et al. 1998): the NIST digits were scaled to fit a 20x20 box keeping their aspect ratio
(anti-aliasing gives the grey levels), then placed in a 28x28 field so that their centre of mass sits at the centre.
Measured on the 10,000 test digits: the centre of mass (row, column index, weighted by intensity) is 13.99 +- 0.29,
14.01 +- 0.29, every digit within 0.5 px of (14, 14) -- the integer shift that rounding gives.
"""
from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps

SIDE = 28  # the MNIST field
BOX = 20  # the longer side of the ink's bounding box after scaling
CENTRE = 14.0  # where MNIST's centre of mass sits, in (row, column) index coordinates
MAX_BYTES = 5 * 1024 * 1024  # an upload larger than this is refused before it is opened
# A digit becomes 20x20 pixels: a picture of one needs far fewer pixels than a camera takes. The side limit is
# checked from the file's header, before any pixel is decoded; a JPEG is decoded at 1/2, 1/4 or 1/8 of its size
# (its DCT scaling, Pillow's draft mode) when that brings it under the limit, so a phone photo still opens.
MAX_SIDE = 2048  # pixels per side, as decoded: 16 MB as RGBA at most
JPEG_SCALES = (1, 2, 4, 8)
UPLOAD_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")  # the decoders an upload may reach; no others are tried
WORK_SIDE = 560  # a decoded picture larger than this is reduced (box filter, a whole factor) before its ink is found


class ImageRejected(ValueError):
    """An uploaded file that is not one usable still image (not an image, damaged, too large, animated)."""


class NothingDrawn(ValueError):
    """The image holds no ink: a blank canvas or a uniform picture."""


def load_upload(data: bytes, max_bytes: int = MAX_BYTES, max_side: int = MAX_SIDE,
                formats: tuple[str, ...] = UPLOAD_FORMATS) -> Image.Image:
    """Open uploaded bytes as one decoded still image, refusing anything else with an `ImageRejected` that says why.

    Bounded before any pixel is decoded: the byte count first, then the header's width and height (at most max_side
    per side once a JPEG's draft scaling is applied), then animation (refused from the header, without counting
    frames). Only the decoders in `formats` are tried. The drawing canvas's PNGs go through here too, with the
    canvas's size as max_side."""
    if len(data) > max_bytes:
        raise ImageRejected(f"the file is too large ({len(data) / 2**20:.1f} MB; at most {max_bytes / 2**20:g} MB)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=formats)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise ImageRejected(f"the image is too large ({e})") from e
        except Exception as e:  # UnidentifiedImageError, and plugins' ValueError/SyntaxError on malformed headers
            raise ImageRejected("the file is not an image that can be read (" + ", ".join(formats) + ")") from e
    w, h = im.size
    if im.format == "JPEG":
        scale = next((s for s in JPEG_SCALES if max(w, h) <= max_side * s), JPEG_SCALES[-1])
        if scale > 1:
            im.draft(im.mode, (-(-w // scale), -(-h // scale)))
    if max(im.size) > max_side:
        raise ImageRejected(f"the image is too large ({w}x{h} pixels; at most {max_side}x{max_side})")
    if getattr(im, "is_animated", False):
        raise ImageRejected("the image is animated; upload a single still image")
    try:
        im.load()
    except Exception as e:  # truncated or corrupt pixel data
        raise ImageRejected(f"the image is damaged and cannot be decoded ({e})") from e
    im = ImageOps.exif_transpose(im)  # phone photos: upright as they were shot
    factor = -(-max(im.size) // WORK_SIDE)
    if factor > 1:
        im = im.resize((max(1, im.width // factor), max(1, im.height // factor)), Image.Resampling.BOX)
    return im


def ink(image) -> np.ndarray:
    """Ink intensity (H, W) float32 in [0, 1], 1 = ink, 0 = background.

    RGBA with any transparency (streamlit-drawable-canvas without a background colour, transparent PNGs): the ink is
    where the alpha is, whatever colour the strokes are. Otherwise the grey level (ITU-R 601 luma, Pillow's "L"); a
    light background -- the median of the outermost pixels above one half -- means dark ink, which is inverted. The
    background level is then subtracted and the contrast stretched, so grey paper or a dim pen still give 0 and 1."""
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] == 4 and a[..., 3].min() < 255:
        gray = a[..., 3].astype(np.float32) / 255.0
    else:
        im = image if isinstance(image, Image.Image) else Image.fromarray(_uint8(a))
        gray = np.asarray(im.convert("L"), dtype=np.float32) / 255.0
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if np.median(border) > 0.5:
        gray = 1.0 - gray
    background = float(np.median(np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])))
    peak = float(gray.max())
    if peak - background < 0.1:  # a uniform image: nothing stands out from the background
        raise NothingDrawn("nothing drawn: the image has no ink that stands out from its background")
    return np.clip((gray - background) / (peak - background), 0.0, 1.0)


def _uint8(a: np.ndarray) -> np.ndarray:
    """An array as 8-bit (floats are taken as [0, 1]), with a single-channel last axis dropped."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.dtype != np.uint8:
        a = np.clip(np.rint(np.asarray(a, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
    return a


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of the intensity-weighted mean pixel index."""
    total = image.sum()
    rows, cols = np.arange(image.shape[0]), np.arange(image.shape[1])
    return float(image.sum(1) @ rows / total), float(image.sum(0) @ cols / total)


def centre_by_mass(image: np.ndarray, side: int = SIDE) -> np.ndarray:
    """Place image (h, w <= side) in a side x side field so that its centre of mass lands on (14, 14) after
    rounding the shift to whole pixels, as MNIST did; ink shifted past an edge is cut off."""
    h, w = image.shape
    r, c = centre_of_mass(image)
    top, left = int(round(CENTRE - r)), int(round(CENTRE - c))
    out = np.zeros((side, side), dtype=np.float32)
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, side), min(left + w, side)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = image[r0 - top:r1 - top, c0 - left:c1 - left]
    return out


def to_mnist(image, threshold: float = 0.2) -> np.ndarray:
    """A drawn or uploaded digit as MNIST sees one: (784,) float32 in [0, 1].

    image: a PIL image or an array -- (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA (streamlit-drawable-canvas's
    image_data), uint8 or floats in [0, 1]. Steps: ink map (`ink`), crop to the bounding box of the pixels above
    `threshold`, scale the longer side to 20 px keeping the aspect ratio (Lanczos, anti-aliased), centre the centre
    of mass in 28x28 (`centre_by_mass`). A blank image raises NothingDrawn ("nothing drawn")."""
    a = ink(image)
    rows, cols = np.nonzero(a > threshold)
    if len(rows) == 0:
        raise NothingDrawn("nothing drawn: no pixel is dark or light enough to be ink")
    crop = a[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL sizes are (width, height)
    small = np.asarray(Image.fromarray(crop).resize(size, Image.Resampling.LANCZOS), dtype=np.float32)
    small = np.clip(small, 0.0, 1.0)  # Lanczos overshoots a little at sharp edges
    if small.sum() <= 0:
        raise NothingDrawn("nothing drawn: the ink vanished when scaled to 20 px")
    return centre_by_mass(small).reshape(-1)
