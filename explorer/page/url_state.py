"""Each page's view in its link (`st.query_params`), so a bookmark or a shared link opens the same view.

A page declares its state as a schema: field name -> kind (a whole number or a number in a range, a span of whole
numbers, a choice from a list, a model name, on/off) and default. `parse` reads a link's parameters into values and
never raises: a parameter that is invalid or stale (an unknown model, an index out of range, text where a number
belongs, NaN, a repeated key) falls back to the default with a one-line notice. `encode` writes values as parameters
-- every field, defaults included: a link in a slide deck must restore the view it was made from, even after a
release changes a default (a link that left the grid size out would silently show the new default's grid). Only unset
fields (no digit selected) are left out, which `parse` reads back as unset.

The Streamlit side is thin: `restore` reads the link once per session and page, `publish` writes the values back to
the address bar when they change, `copy_link` shows the link to copy (at the page's top right: `titled`). Streamlit's
own `bind="query-params"` on widgets is not used: it drops an invalid value silently (no notice), leaves defaults out
of the link, and binds widgets only, while a view here also holds a clicked digit and the sidebar's model (whose
link the sidebar reads and writes: explorer.model.link).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import streamlit as st

from explorer.model.files import list_checkpoints
from explorer.page.score_labels import COLOUR_BY
from vae_core import settings
from vae_core.corruption import HALVES

RESTORED = "url_state_{page}"  # session state: the values read from this page's link (read once per session)
NOTICES = "url_state_notices_{page}"  # session state: what was wrong with that link
COPY = "url_state_copy_{page}"  # the "Copy link" popover's key: open or not
LOCAL_URL = "http://localhost:8501/"  # the link's origin when the browser's address is not known (AppTest)
SHOWN = 24  # characters of a bad parameter quoted in its notice
# A notice stays until closed: it is sent as a page starts, and a first view on a fresh server can take longer than a
# "long" toast's 10 s to draw, so it could vanish before the view it explains is seen.
NOTICE_DURATION = "infinite"

_INT = re.compile(r"[+-]?\d{1,15}")
_NUMBER = re.compile(r"[+-]?(\d{1,20}\.?\d{0,20}|\.\d{1,20})([eE][+-]?\d{1,4})?")
_NOT_FINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)
_SPAN = re.compile(r"(\d{1,6})-(\d{1,6})")


class Invalid(ValueError):
    """A parameter's text is not a value of its field (the message says why, e.g. "is not a whole number")."""


@dataclass(frozen=True)
class Int:
    """A whole number in [lo, hi]; default None means "unset" (left out of the link)."""
    lo: int
    hi: int
    default: int | None

    def read(self, text: str) -> int:
        if not _INT.fullmatch(text):
            raise Invalid("is not a whole number")
        value = int(text)
        if not self.lo <= value <= self.hi:
            raise Invalid(f"is outside {self.lo}–{self.hi}")
        return value

    def write(self, value) -> str:
        return str(int(value))


@dataclass(frozen=True)
class Float:
    """A finite number in [lo, hi], snapped to the nearest multiple of `step` from lo (as the page's slider would)."""
    lo: float
    hi: float
    default: float | None
    step: float

    def read(self, text: str) -> float:
        if not _NUMBER.fullmatch(text):
            raise Invalid("is not a finite number" if _NOT_FINITE.fullmatch(text) else "is not a number")
        value = float(text)
        if not math.isfinite(value):
            raise Invalid("is not a finite number")  # 1e999
        if not self.lo <= value <= self.hi:
            raise Invalid(f"is outside {self.lo:g}–{self.hi:g}")
        return self.snap(value)

    def write(self, value) -> str:
        return repr(self.snap(float(value)))

    def snap(self, value: float) -> float:
        """The value the slider offers nearest to `value`: a multiple of step from lo, within [lo, hi]."""
        decimals = max(0, -math.floor(math.log10(self.step)))  # 0.01 -> 2, 0.5 -> 1: no 0.30000000000000004
        return round(min(max(self.lo + round((value - self.lo) / self.step) * self.step, self.lo), self.hi), decimals)


@dataclass(frozen=True)
class Choice:
    """One of `options` (matched ignoring case, read back as spelled in options); noun names it in notices; default
    None means "unset" (left out of the link)."""
    options: tuple[str, ...]
    default: str | None
    noun: str = "choice"

    def read(self, text: str) -> str:
        for option in self.options:
            if text.lower() == option.lower():
                return option
        known = f": one of {', '.join(self.options)}" if 0 < len(self.options) <= 8 else ""
        raise Invalid(f"is not a known {self.noun}{known}")

    def write(self, value) -> str:
        return str(value)


@dataclass(frozen=True)
class Flag:
    """On or off: true/false (also 1/0, any case)."""
    default: bool

    def read(self, text: str) -> bool:
        lowered = text.lower()
        if lowered not in ("true", "false", "1", "0"):
            raise Invalid("is not true or false")
        return lowered in ("true", "1")

    def write(self, value) -> str:
        return "true" if value else "false"


@dataclass(frozen=True)
class Span:
    """A range slider's (first, last) whole numbers, both in [lo, hi] and first <= last, written `8-19`."""
    lo: int
    hi: int
    default: tuple[int, int]

    def read(self, text: str) -> tuple[int, int]:
        match = _SPAN.fullmatch(text)
        if not match:
            raise Invalid("is not a span of whole numbers like 8-19")
        first, last = int(match[1]), int(match[2])
        if not (self.lo <= first <= self.hi and self.lo <= last <= self.hi):
            raise Invalid(f"is outside {self.lo}–{self.hi}")
        if first > last:
            raise Invalid("ends before it starts")
        return first, last

    def write(self, value) -> str:
        first, last = value
        return f"{int(first)}-{int(last)}"


Field = Int | Float | Span | Choice | Flag


@dataclass(frozen=True)
class Schema:
    """A page's state in its link: `page` is its URL path (latent_map), `fields` maps parameter -> field."""
    page: str
    fields: Mapping[str, Field] = field(default_factory=dict)

    def defaults(self) -> dict:
        return {name: f.default for name, f in self.fields.items()}


# ------------------------------------------------------------------------------------------------ the page schemas

Z_LIMIT = 6.0  # the decoder grid's z sliders and largest extent (pages/decoder_grid.py)
GRID_EXTENT = Float(0.5, Z_LIMIT, 3.0, step=0.5)  # a decoder grid's extent a (the decoder grid's, Compare's)
DEFAULT_PAIR = (2, 3)  # the interpolation's default A and B: the first 1 and the first 0 of the MNIST test set
DAMAGES = ("gaussian", "salt_and_pepper", "rectangle", "half")  # the Repair page's damages (vae_core.corruption)
# Repair opens on test #174 (a 2) with its top half missing: a damage the VAE's iterative fill is made for, and a digit
# typical of those it repairs better than both baselines (closer to the original, and still read as a 2). Not noise:
# there the 3×3 median filter beats the VAE's encode-decode, whose encoder never saw grey, noisy backgrounds.
DEFAULT_REPAIR = (174, "half")


def model_field(models: Sequence[str]) -> Choice:
    """The model, by its file's stem (`default` for the shipped one): valid names are `model_names()`."""
    return Choice(tuple(models), "default", noun="model")


def latent_map_schema(models: Sequence[str], n_test: int = 10_000, colour_by: Sequence[str] = COLOUR_BY) -> Schema:
    return Schema("latent_map", {
        "model": model_field(models),
        "digit": Int(0, n_test - 1, None),  # the selected test digit (none until one is clicked)
        "colour_by": Choice(tuple(colour_by), colour_by[0], noun="colouring"),
        "show_digits": Flag(False),  # the digits drawn on the map
    })


def decoder_grid_schema(models: Sequence[str]) -> Schema:
    return Schema("decoder_grid", {
        "model": model_field(models),
        "grid": Int(5, 40, 20),  # G: a G x G grid of decoded digits
        "extent": GRID_EXTENT,  # the grid covers [-a, a]^2
        "z1": Float(-Z_LIMIT, Z_LIMIT, 0.0, step=0.01),  # the chosen z, decoded large
        "z2": Float(-Z_LIMIT, Z_LIMIT, 0.0, step=0.01),
        "overlay": Flag(False),  # the test digits' latent means over the grid
    })


def interpolation_schema(models: Sequence[str], n_test: int = 10_000, pair: tuple[int, int] = DEFAULT_PAIR) -> Schema:
    return Schema("interpolation", {
        "model": model_field(models),
        "a": Int(0, n_test - 1, pair[0]),  # test index of end A
        "b": Int(0, n_test - 1, pair[1]),  # and of end B
        "mode": Choice(("linear", "spherical"), "linear", noun="path"),
        "steps": Int(3, 25, 10),  # frames in the strip
        "t": Float(0.0, 1.0, 0.5, step=0.01),  # the frame shown large
    })


def repair_schema(models: Sequence[str], n_test: int = 10_000, side: int = 28,
                  default: tuple[int, str] = DEFAULT_REPAIR) -> Schema:
    """The whole view of the Repair page but a drawing from the Draw page (which stays in its browser)."""
    return Schema("repair", {
        "model": model_field(models),
        "digit": Int(0, n_test - 1, default[0]),  # the test digit repaired
        "damage": Choice(DAMAGES, default[1], noun="damage"),
        "sigma": Float(0.05, 1.0, 0.4, step=0.05),  # Gaussian noise's σ
        "p": Float(0.0, 0.6, 0.2, step=0.05),  # salt and pepper's share of pixels hit
        "rows": Span(0, side - 1, (8, 19)),  # the missing rectangle's rows and columns
        "cols": Span(0, side - 1, (8, 19)),
        "half": Choice(HALVES, HALVES[0], noun="half"),  # the missing half
        "iters": Int(1, 30, 10),  # rounds of encode -> decode -> put the seen pixels back
        "seed": Int(0, 10**9, 0),  # the noise's sample: "New noise" counts it up
    })


def model_schema(page: str, models: Sequence[str]) -> Schema:
    """A page whose view in the link is the model alone (overview, holes, film): the sidebar reads and writes it
    (explorer.model.link); the page gives it a Copy link."""
    return Schema(page, {"model": model_field(models)})


def anomalies_schema(models: Sequence[str], scores: Sequence[str], threshold: Float | None = None) -> Schema:
    """threshold: the flagging threshold's field, whose range is the chosen score's (known once it is computed)."""
    return Schema("anomalies", {
        "model": model_field(models),
        "score": Choice(tuple(scores), "corrected", noun="score"),
        **({"threshold": threshold} if threshold else {}),  # test digits scoring above it are flagged
    })


def compare_schema(models: Sequence[str]) -> Schema:
    return Schema("compare", {
        "model": model_field(models),
        "a": Choice(tuple(models), None, noun="model"),  # models A and B; unset: the page's default pair
        "b": Choice(tuple(models), None, noun="model"),
    })


# ---------------------------------------------------------------------------------------------- link <-> values


def _quoted(name: str, text: str) -> str:
    """name=text as an inline code span (no Markdown, HTML or LaTeX inside it), cut short, on one line."""
    text = re.sub(r"[`\s]+", " ", text).strip()
    return f"`{name}={text[:SHOWN]}{'…' if len(text) > SHOWN else ''}`"


def _fallback(f: Field) -> str:
    return "none" if f.default is None else f.write(f.default)


def parse(schema: Schema, params: Mapping[str, str | Sequence[str]]) -> tuple[dict, list[str]]:
    """(a value for every field of the schema, one notice per parameter that fell back to its default).

    params as `{key: st.query_params.get_all(key)}` (lists, so repeated keys are seen) or plain strings. Parameters
    the schema does not name are left alone (Streamlit's embed options, the presenter token). Never raises."""
    values, notices = schema.defaults(), []
    for name, f in schema.fields.items():
        raw = params.get(name)
        if raw is None:
            continue
        texts = [raw] if isinstance(raw, str) else [str(t) for t in raw]
        if not texts:
            continue
        try:
            if len(texts) > 1:
                raise Invalid(f"appears {len(texts)} times")
            if not texts[0].strip():
                raise Invalid("is empty")
            values[name] = f.read(texts[0].strip())
        except Invalid as e:
            notices.append(f"The link's {_quoted(name, texts[-1])} {e}: showing the default ({_fallback(f)}).")
    return values, notices


def encode(schema: Schema, values: Mapping) -> dict[str, str]:
    """The link's parameters for these values: every field that is set, in the schema's order (see the module's
    docstring for why defaults are written too)."""
    return {name: f.write(values[name]) for name, f in schema.fields.items() if values.get(name) is not None}


def page_url(page: str, context_url: str | None, audience_url: str | None = None) -> str:
    """The address of a page without its query: on the audience's address (VAE_AUDIENCE_URL) in room mode, so the
    presenter's localhost never reaches a student, else on the address this browser used (st.context.url), else on
    localhost:8501 (AppTest knows no address)."""
    here = urlsplit(context_url or "")
    if audience_url:
        origin = urlsplit(audience_url)
        return urlunsplit((origin.scheme, origin.netloc, f"{origin.path.rstrip('/')}/{page}", "", ""))
    if not (here.scheme and here.netloc):
        here = urlsplit(LOCAL_URL)
    path = here.path if here.path.rstrip("/").endswith(f"/{page}") else f"{here.path.rstrip('/')}/{page}"
    return urlunsplit((here.scheme, here.netloc, path, "", ""))


def link(schema: Schema, values: Mapping, base: str) -> str:
    """The full link of a view: the page's address (page_url) and its parameters."""
    return f"{base}?{urlencode(encode(schema, values))}"


# ---------------------------------------------------------------------------------------------------- Streamlit


def model_names() -> list[str]:
    """The models a link may name: the stems of the listed checkpoint files (default, beta4, conv, then trained)."""
    return [p.stem for p in list_checkpoints()]


def checkpoint_named(name: str) -> Path | None:
    """The listed checkpoint file whose stem is `name` (the first, shipped ones first), or None."""
    return next((p for p in list_checkpoints() if p.stem == name), None)


def stepped_slider(label: str, f: Float, key: str, where=st, **kwargs) -> float:
    """A slider over a Float field's range and step (in `where`: st, a column, the sidebar), whose value the page gets
    snapped to that step (Float.snap). Streamlit's server checks a slider's value against its range but not its
    step, so a client speaking its websocket protocol could send any number in range (an extent of 2.3719 where the
    slider offers 2.5): each a new view to compute and cache. Snapped, the views a session can ask for are the
    finite set the slider offers, and every session shares their cached work."""
    return f.snap(where.slider(label, f.lo, f.hi, step=f.step, key=key, **kwargs))


def restore(schema: Schema, into: Mapping[str, str] | None = None) -> dict:
    """This page's values from its link, read once per session (later runs return the same values: the widgets own
    the state from then on). On that first read each value is also put into the session-state key `into` names for
    its field (the widget's key), and every notice is shown as a toast."""
    key = RESTORED.format(page=schema.page)
    if key not in st.session_state:
        values, notices = parse(schema, {k: st.query_params.get_all(k) for k in st.query_params})
        st.session_state[key], st.session_state[NOTICES.format(page=schema.page)] = values, notices
        for name, state_key in (into or {}).items():
            if values[name] is not None:
                st.session_state[state_key] = values[name]
        for notice in notices:
            st.toast(notice, icon=":material/link_off:", duration=NOTICE_DURATION)
    return st.session_state[key]


def notices(schema: Schema) -> list[str]:
    """What was wrong with this page's link when `restore` read it (empty if nothing, or not read yet)."""
    return list(st.session_state.get(NOTICES.format(page=schema.page), []))


def publish(schema: Schema, values: Mapping) -> None:
    """Put the values in the address bar, writing only the parameters that changed (each write is a message to the
    browser); parameters of other owners are left alone."""
    wanted = encode(schema, values)
    changed = {k: v for k, v in wanted.items() if st.query_params.get_all(k) != [v]}
    if changed:
        st.query_params.update(changed)
    for name in schema.fields:
        if name not in wanted and name in st.query_params:
            del st.query_params[name]


def current_link(schema: Schema, values: Mapping) -> str:
    try:
        context_url = st.context.url
    except AttributeError:  # no browser context (a bare script run)
        context_url = None
    return link(schema, values, page_url(schema.page, context_url, settings.audience_url() or None))


def titled(title: str):
    """The page's title, with a slot at its top right for `copy_link`: returned, to be filled at the end of the run,
    once the widgets have given the view."""
    head, slot = st.columns([5, 1], vertical_alignment="center")
    head.title(title)
    return slot.container(horizontal_alignment="right")


def copy_link(schema: Schema, values: Mapping, label: str = "Copy link") -> None:
    """A button that opens the link of this view, in a code block with Streamlit's copy icon (no custom component or
    script; the link can also be selected by hand where the clipboard is blocked, e.g. plain http on a LAN).

    The link is made only while the popover is open: opening it reruns the page (on_change="rerun"), so it holds the
    view as it is then, even after a fragment alone changed it (a click on the decoder grid reruns only the grid,
    not the button), and a closed popover costs nothing."""
    popover = st.popover(label, icon=":material/link:", key=COPY.format(page=schema.page), on_change="rerun")
    if popover.open:
        with popover:
            st.code(current_link(schema, values), language=None, wrap_lines=True)
            st.caption("Opening this link in any browser shows this view: the model, the settings and the chosen "
                       "digit.")
