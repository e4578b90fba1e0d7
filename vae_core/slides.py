"""Pictures for lecture slides, drawn with Pillow: latent maps, decoded grids, and animated GIFs of a training film
or an interpolation -- each frame a 1920 x 1080 picture (a full-HD 16:9 slide, filled edge to edge at 100%).

No Plotly export: turning a Plotly figure into a PNG needs kaleido and a headless browser, neither of which this
project depends on. A map is drawn here instead, each digit a small disc in its palette colour (10,000 discs: ~60 ms).

Layout of a slide: a title line at the top (and a caption, e.g. the film's "epoch 5", at its right), one or two square
panels side by side, and under a map the colour key of the ten digits. A map writes each class's digit at the heart of
its cloud (label_places, where the app's maps put theirs).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .film import FILM_EXTENT, frame_caption, frame_grid, has_film, has_grids
from .label_places import label_places
from .palette import DIGIT_COLOURS

SLIDE = (1920, 1080)  # width, height in pixels: a 16:9 full-HD slide
MARGIN = 40  # px around the panels
TITLE_BAND = 100  # px at the top for the title
KEY_BAND = 60  # px at the bottom for the digit colour key
PRIOR_GREY = (90, 90, 90)
AXIS_GREY = (60, 60, 60)
ZERO_GREY = (200, 200, 200)
LABEL_BOX = (255, 255, 255, 230)  # a class label's box: white, a little of the dots showing through
# Grey levels in a GIF: the decoded grids are most of its bytes. beta4's 35-frame film: 6.0 MB with 246 greys, 5.0 MB
# with 32, 3.9 MB with 16; 32 levels show no banding on a projected digit.
GIF_GREYS = 32
MAX_GIF_FRAMES = 40  # a longer film keeps its first-epoch frames and the last, and evenly spaced epochs between


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (bold: DejaVu Sans Bold) where installed (it has the subscripts of z₁, z₂), else Pillow's own
    scalable font."""
    try:
        return ImageFont.truetype("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size)


def _rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def panel_side(n_panels: int, size: tuple[int, int] = SLIDE, key: bool = True) -> int:
    """The side of each of n square panels that fit side by side on a slide of `size` under the title band."""
    width, height = size
    tall = height - TITLE_BAND - (KEY_BAND if key else 0) - MARGIN // 2
    wide = (width - MARGIN * (n_panels + 1)) // n_panels
    return max(64, min(tall, wide))


class _Axes:
    """A square plot area inside a panel, [lo, hi]^2 in data units, y growing upwards; ticks on the left and below."""

    def __init__(self, side: int, lo: float, hi: float):
        self.lo, self.hi = lo, hi
        self.pad_left, self.pad_bottom, self.pad_top, self.pad_right = int(side * 0.09), int(side * 0.08), 8, 8
        self.plot = side - max(self.pad_left + self.pad_right, self.pad_bottom + self.pad_top)
        self.x0, self.y0 = self.pad_left, self.pad_top  # the plot area's top-left corner in the panel

    def to_px(self, xy: np.ndarray) -> np.ndarray:
        scale = self.plot / (self.hi - self.lo)
        return np.column_stack([self.x0 + (xy[:, 0] - self.lo) * scale, self.y0 + (self.hi - xy[:, 1]) * scale])

    def ticks(self) -> np.ndarray:
        span = self.hi - self.lo
        step = 1.0 if span <= 10 else 2.0 if span <= 20 else 5.0
        return np.arange(np.ceil(self.lo / step), np.floor(self.hi / step) + 1) * step

    def draw_frame(self, draw: ImageDraw.ImageDraw, side: int, names=("z₁", "z₂")) -> None:
        font = _font(max(12, side // 40))
        x0, y0, x1, y1 = self.x0, self.y0, self.x0 + self.plot, self.y0 + self.plot
        draw.rectangle([x0, y0, x1, y1], outline=AXIS_GREY, width=2)
        for t in self.ticks():
            (px, py), = self.to_px(np.array([[t, t]]))
            draw.line([px, y1, px, y1 + 8], fill=AXIS_GREY, width=2)
            draw.text((px, y1 + 10), f"{t:g}", fill=AXIS_GREY, font=font, anchor="ma")
            draw.line([x0 - 8, py, x0, py], fill=AXIS_GREY, width=2)
            draw.text((x0 - 12, py), f"{t:g}", fill=AXIS_GREY, font=font, anchor="rm")
        label = _font(max(14, side // 32))
        draw.text(((x0 + x1) / 2, side - 4), names[0], fill=AXIS_GREY, font=label, anchor="md")
        draw.text((4, (y0 + y1) / 2), names[1], fill=AXIS_GREY, font=label, anchor="lm")


def map_extent(codes: np.ndarray, at_least: float = 3.2) -> float:
    """Half the side of a square view [-e, e]^2 holding every code (over all frames of a film, so the axes stay
    put) and at least the prior's 3σ circle."""
    codes = np.asarray(codes, dtype=np.float32)
    return max(at_least, float(np.abs(codes).max(initial=0.0)) * 1.05)


def map_panel(codes: np.ndarray, labels: np.ndarray, side: int, extent: float | None = None,
              colours: Sequence[str] = DIGIT_COLOURS, radius: float | None = None, prior: bool = True,
              path: np.ndarray | None = None, class_labels: bool = True) -> Image.Image:
    """A latent map: each code a disc in its digit's colour over [-extent, extent]^2, with the N(0, I) prior's 1σ,
    2σ, 3σ circles (prior), each class's digit written at the heart of its cloud (class_labels) and an interpolation
    path (path, (k, 2)). Discs are drawn in a fixed shuffled order, so no digit class hides the others."""
    codes, labels = np.asarray(codes, dtype=np.float32), np.asarray(labels)
    extent = map_extent(codes) if extent is None else extent
    panel = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(panel)
    axes = _Axes(side, -extent, extent)
    origin = axes.to_px(np.zeros((1, 2)))[0]
    draw.line([axes.x0, origin[1], axes.x0 + axes.plot, origin[1]], fill=ZERO_GREY, width=1)
    draw.line([origin[0], axes.y0, origin[0], axes.y0 + axes.plot], fill=ZERO_GREY, width=1)
    r = radius if radius is not None else max(1.5, side / 330 * (1.0 if len(codes) > 4000 else 1.4))
    fills = [_rgb(c) for c in colours]
    order = np.random.default_rng(0).permutation(len(codes))
    px = axes.to_px(codes[order])
    inside = (px >= [axes.x0 - r, axes.y0 - r]).all(1) & (px <= [axes.x0 + axes.plot + r, axes.y0 + axes.plot + r]).all(1)
    for (x, y), label in zip(px[inside], labels[order][inside], strict=True):
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fills[int(label)])
    if prior:
        scale = axes.plot / (2 * extent)
        for k in (1, 2, 3):
            draw.ellipse([origin[0] - k * scale, origin[1] - k * scale, origin[0] + k * scale, origin[1] + k * scale],
                         outline=PRIOR_GREY, width=2)
    if class_labels:
        _draw_class_labels(panel, axes, codes, labels, colours, side)
    if path is not None:
        points = [tuple(p) for p in axes.to_px(np.asarray(path, dtype=np.float32))]
        draw.line(points, fill="black", width=4)
        for x, y in (points[0], points[-1]):
            draw.ellipse([x - 9, y - 9, x + 9, y + 9], fill="black")
    axes.draw_frame(draw, side)
    return panel


def _draw_class_labels(panel: Image.Image, axes: _Axes, codes: np.ndarray, labels: np.ndarray,
                       colours: Sequence[str], side: int) -> None:
    """Each class's digit, bold in its colour on a white box framed in it, centred on the class's place
    (label_places); a place outside the plot area is left out."""
    draw = ImageDraw.Draw(panel, "RGBA")  # RGBA: the box's alpha blends over the dots
    font = _font(max(14, side // 22), bold=True)
    pad = max(3, side // 150)
    for d, xy in label_places(codes, labels).items():
        (x, y), = axes.to_px(np.array([xy]))
        if not (axes.x0 <= x <= axes.x0 + axes.plot and axes.y0 <= y <= axes.y0 + axes.plot):
            continue
        left, top, right, bottom = draw.textbbox((x, y), str(d), font=font, anchor="mm")
        colour = _rgb(colours[int(d)])
        draw.rounded_rectangle([left - pad, top - pad, right + pad, bottom + pad], radius=pad, fill=LABEL_BOX,
                               outline=colour, width=3)
        draw.text((x, y), str(d), fill=colour, font=font, anchor="mm")


def grid_panel(picture: np.ndarray, side: int, extent: tuple[float, float] | None = None, tile: int = 28
              ) -> Image.Image:
    """A decoded grid: one (h, w) mosaic of tile x tile digits (uint8, or floats in [0, 1]) scaled to the plot area
    nearest-neighbour (the digits' pixels stay square), on z axes when `extent` = (lo, hi), the first and last cell
    centres; without `extent`, the picture alone fills the panel (e.g. one digit)."""
    a = np.asarray(picture)
    if a.dtype != np.uint8:
        a = (np.clip(a.astype(np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
    panel = Image.new("RGB", (side, side), "white")
    if extent is None:
        panel.paste(Image.fromarray(a).convert("RGB").resize((side, side), Image.Resampling.NEAREST))
        return panel
    lo, hi = extent
    cells = max(1, a.shape[0] // tile)
    half = (hi - lo) / max(cells - 1, 1) / 2  # the picture reaches half a cell beyond the outer cell centres
    axes = _Axes(side, lo - half, hi + half)
    mosaic = Image.fromarray(a).convert("RGB").resize((axes.plot, axes.plot), Image.Resampling.NEAREST)
    panel.paste(mosaic, (axes.x0, axes.y0))
    axes.draw_frame(ImageDraw.Draw(panel), side)
    return panel


def slide(panels: Sequence[Image.Image], title: str = "", caption: str = "", key_colours: Sequence[str] | None = None,
          size: tuple[int, int] = SLIDE) -> Image.Image:
    """Panels side by side, centred, under a title (left) and a caption (right); with key_colours, a row of the ten
    digits in their colours below the first panel."""
    width, height = size
    canvas = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(canvas)
    title_font = _font(44)
    if title:
        draw.text((MARGIN, TITLE_BAND // 2), title, fill="black", font=title_font, anchor="lm")
    if caption:
        draw.text((width - MARGIN, TITLE_BAND // 2), caption, fill="black", font=_font(52), anchor="rm")
    total = sum(p.width for p in panels) + MARGIN * (len(panels) - 1)
    x = (width - total) // 2
    lefts = []
    for p in panels:
        canvas.paste(p, (x, TITLE_BAND))
        lefts.append(x)
        x += p.width + MARGIN
    if key_colours is not None and panels:
        font = _font(30)
        step, y = 70, min(height - KEY_BAND // 2, TITLE_BAND + panels[0].height + KEY_BAND // 2)
        start = lefts[0] + (panels[0].width - 10 * step) // 2 + step // 2
        for d, colour in enumerate(key_colours):
            cx = start + d * step
            draw.ellipse([cx - 20, y - 20, cx + 20, y + 20], fill=_rgb(colour))
            draw.text((cx, y), str(d), fill="white", font=font, anchor="mm")
    return canvas


def png_bytes(picture: Image.Image) -> bytes:
    buf = io.BytesIO()
    picture.save(buf, format="PNG")  # no optimize: 4x slower for 5% fewer bytes on a map slide
    return buf.getvalue()


def png_for_slide(panels: Image.Image | Sequence[Image.Image], title: str = "", caption: str = "",
                  key_colours: Sequence[str] | None = None, size: tuple[int, int] = SLIDE) -> bytes:
    """One slide (`slide`) as a PNG of exactly `size` pixels: e.g. `png_for_slide(map_panel(mu, y, panel_side(1)),
    "Latent means", key_colours=DIGIT_COLOURS)` or `png_for_slide(grid_panel(mosaic, panel_side(1, key=False), (-3, 3)))`."""
    panels = [panels] if isinstance(panels, Image.Image) else list(panels)
    return png_bytes(slide(panels, title, caption, key_colours, size))


# ---------------------------------------------------------------------------------------------------- animated GIFs


def _gif_palette(colours: Sequence[str]) -> Image.Image:
    """A fixed palette: the ten digit colours, then GIF_GREYS greys (digits, text, axes). One palette for every frame
    means no per-frame colour search, and colours that do not flicker from frame to frame."""
    greys = np.linspace(0, 255, GIF_GREYS).round().astype(int)
    entries = [c for colour in colours for c in _rgb(colour)] + [int(g) for g in greys for _ in range(3)]
    palette = Image.new("P", (1, 1))
    palette.putpalette(entries)
    return palette


def gif_bytes(frames: Sequence[Image.Image], durations_ms: Sequence[int], colours: Sequence[str] = DIGIT_COLOURS) -> bytes:
    """An animated, endlessly looping GIF of RGB frames (each shown durations_ms[i])."""
    palette = _gif_palette(colours)
    indexed = [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    buf = io.BytesIO()
    indexed[0].save(buf, format="GIF", save_all=True, append_images=indexed[1:], duration=list(durations_ms), loop=0,
                    optimize=False)  # Pillow still stores each frame as its difference to the previous one
    return buf.getvalue()


def pick_frames(epochs, max_frames: int = MAX_GIF_FRAMES) -> list[int]:
    """Which of a film's frames to show when there may be at most max_frames: all of them if they fit, else every
    frame inside the first epoch (where the map forms) and evenly spaced later ones, the last always among them."""
    epochs = np.asarray(epochs, dtype=np.float64)
    if len(epochs) <= max_frames:
        return list(range(len(epochs)))
    early = [int(i) for i in np.flatnonzero(epochs < 1 - 1e-6)][: max(1, max_frames // 2)]
    later = np.arange(len(early), len(epochs))
    keep = later[np.unique(np.linspace(0, len(later) - 1, max(1, max_frames - len(early))).round().astype(int))]
    return early + [int(i) for i in keep]


def film_frames(snapshots: dict, title: str = "", frames: Sequence[int] | None = None,
                colours: Sequence[str] = DIGIT_COLOURS, size: tuple[int, int] = SLIDE) -> list[Image.Image]:
    """Frames of a training film (all, or those listed) as slides: the filmed digits' latent means -- axes fixed
    over the whole film, so motion on the slide is motion in z -- beside the decoded grid, captioned 'untrained',
    'step 30 of epoch 1', 'epoch 5'."""
    if not has_film(snapshots):
        raise ValueError("this checkpoint has no training film")
    means, labels = snapshots["means"].float().numpy(), snapshots["labels"].numpy()
    grids = has_grids(snapshots)
    side = panel_side(2 if grids else 1, size)
    extent = map_extent(means)
    slides = []
    for f in range(len(means)) if frames is None else frames:
        # no class labels: the untrained frames' one blob would pile the ten up, and a label that moves from
        # frame to frame draws the eye from the clouds; the film's colour key names the classes
        panels = [map_panel(means[f], labels, side, extent, colours, class_labels=False)]
        if grids:
            panels.append(grid_panel(frame_grid(snapshots, f), side, (-FILM_EXTENT, FILM_EXTENT)))
        slides.append(slide(panels, title, frame_caption(snapshots, f), colours, size))
    return slides


def film_gif(snapshots: dict, title: str = "", frame_ms: int = 600, hold_ms: int = 2500,
             max_frames: int = MAX_GIF_FRAMES, colours: Sequence[str] = DIGIT_COLOURS,
             size: tuple[int, int] = SLIDE) -> bytes:
    """The training film as an animated GIF of `size` (1920 x 1080) frames -- at most max_frames of the film's
    (`pick_frames`) -- each shown frame_ms, the last hold_ms (the trained map stays up before the loop restarts).
    beta4's 35 frames: ~4 s and ~5 MB."""
    if not has_film(snapshots):
        raise ValueError("this checkpoint has no training film")
    frames = film_frames(snapshots, title, pick_frames(snapshots["epochs"], max_frames), colours, size)
    return gif_bytes(frames, [frame_ms] * (len(frames) - 1) + [hold_ms], colours)


def interpolation_gif(frames: np.ndarray, captions: Sequence[str] | None = None, title: str = "",
                      ends: tuple[np.ndarray, np.ndarray] | None = None, frame_ms: int = 300, hold_ms: int = 1200,
                      size: tuple[int, int] = SLIDE) -> bytes:
    """Frames decoded along a latent path ((k, h, w) in [0, 1]) as an animated GIF of `size` frames: each frame
    large, with its caption (e.g. 't = 0.25'); with `ends` = (image A, image B) the two real digits beside it.
    The first and last frames are held for hold_ms."""
    frames = np.asarray(frames, dtype=np.float32)
    n = len(frames)
    if n < 2:
        raise ValueError("an interpolation GIF needs at least 2 frames")
    captions = list(captions) if captions is not None else [f"t = {t:.2f}" for t in np.linspace(0, 1, n)]
    big = panel_side(1, size, key=False)
    small = (size[0] - big - 4 * MARGIN) // 2 if ends is not None else 0
    font = _font(36)
    slides = []
    for frame, caption in zip(frames, captions, strict=True):
        canvas = slide([grid_panel(frame, big)], title, caption, None, size)
        if ends is not None:
            draw = ImageDraw.Draw(canvas)
            side = min(small, big // 2)
            y = TITLE_BAND + (big - side) // 2
            for name, image, x in (("A", ends[0], MARGIN + (small - side) // 2),
                                   ("B", ends[1], size[0] - MARGIN - (small + side) // 2)):
                canvas.paste(grid_panel(image, side), (x, y))
                draw.text((x + side // 2, y - 12), name, fill="black", font=font, anchor="md")
        slides.append(canvas)
    durations = [hold_ms] + [frame_ms] * (n - 2) + [hold_ms]
    return gif_bytes(slides, durations)
