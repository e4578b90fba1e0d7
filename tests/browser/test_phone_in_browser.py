"""Every page on a phone, as the audience of a room sees it (real Chromium, 390 x 844, touch, a mobile user agent, no
presenter token): no exception box, no sideways scrolling, the page's main picture starting in the first screen,
nothing asked of a machine other than the laptop, Repair's three digits in one row; and tapping a cell of the decoder
grid decodes it.
Screenshots: artifacts/screenshots/phone_<page>.png."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.browser_harness import EXCEPTION, POINT_JS, chromium, serve_app, wait_idle
from explorer.classmap.store import SqliteStore
from explorer.render.styles import INTRO

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
MOBILE_UA = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/126.0.0.0 Mobile Safari/537.36")
SLOW = 120_000  # ms: a page's first view on a fresh, shared 2-core server
# A page's main picture: its first chart, digit picture, drawing canvas (a component's frame) or table (Compare's
# figures).
PICTURE = ('[data-testid="stMain"] .js-plotly-plot, [data-testid="stMain"] [data-testid="stImage"] img, '
           '[data-testid="stMain"] iframe, [data-testid="stMain"] [data-testid="stTable"]')
ANOMALIES = 900  # s: the Anomalies page first scores the 10,000 test digits (the server's warm-up starts it)
LOCAL = {"127.0.0.1", "localhost"}
OFF_MACHINE: list[str] = []  # what the phone asked of any other machine (its browser resolves no other host name)


def page_slugs() -> list[str]:
    """The URL path of every page navigation.py lists ("" for the default page, the root)."""
    text = (ROOT / "navigation.py").read_text()
    return ["" if "default=True" in line else re.search(r'"pages/(\w+)\.py"', line).group(1)
            for line in text.splitlines() if re.search(r'st\.Page\("pages/\w+\.py"', line)]


@pytest.fixture(scope="module")
def phone(tmp_path_factory, real_data):
    """(base url, a phone-sized touch page) on a room-mode server, opened without the presenter's token."""
    tmp = tmp_path_factory.mktemp("phone")
    SHOTS.mkdir(parents=True, exist_ok=True)
    # the class map shown to students, as during a lecture (before, the audience sees only a notice)
    SqliteStore(tmp / "classmap.sqlite3").set_flags(revealed=True)
    # the warm-up scores the test digits at once (a minute of CPU), while the other pages are looked at
    env = {"VAE_PRESENTER_TOKEN": "phone-test-token-0123", "VAE_WARM_ANOMALY_SCORES": "1", "VAE_WARM_ANOMALY_DELAY_S": "0",
           "VAE_CLASSMAP_URL": f"sqlite:///{tmp / 'classmap.sqlite3'}"}
    with serve_app(tmp / "checkpoints", tmp / "streamlit.log", env=env) as (url, _), chromium() as desktop:
        context = desktop.context.browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                                      user_agent=MOBILE_UA, device_scale_factor=2)
        page = context.new_page()
        page.set_default_timeout(SLOW)
        page.on("request", note_off_machine)
        yield url, page
        context.close()


def note_off_machine(request) -> None:
    """Keeps the address of a request to any machine but this one (data: URLs and the like ask no machine)."""
    parts = urlsplit(request.url)
    if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL:
        OFF_MACHINE.append(request.url)


def open_on_phone(page, url: str, slug: str) -> None:
    page.goto(f"{url}/{slug}")
    timeout = ANOMALIES * 1000 if slug == "anomalies" else SLOW
    # any picture drawn (the first in the page's order may be a hidden one, e.g. in a folded section)
    page.wait_for_function("sel => [...document.querySelectorAll(sel)].some(e => e.getBoundingClientRect().height > 0)",
                           arg=PICTURE, timeout=timeout)
    wait_idle(page, timeout)
    # and no element still waiting for its code (Plotly's bundle loads on a page's first chart: until then Streamlit
    # shows a skeleton, and a later picture, such as a digit under the chart, may be the only one drawn)
    page.wait_for_function("() => !document.querySelector('[data-testid=stMain] [data-testid=stSkeleton]')",
                           timeout=timeout)


def test_the_list_of_pages_is_navigations():
    slugs = page_slugs()
    assert len(slugs) == 11 and slugs[0] == "" and {"decoder_grid", "class_map"} <= set(slugs)


def test_one_tap_on_a_decoder_grid_cell_decodes_it(phone):
    url, page = phone
    open_on_phone(page, url, "decoder_grid")
    page.locator('[data-testid="stMain"] .js-plotly-plot').first.scroll_into_view_if_needed()
    n = page.evaluate("document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullData.length")
    cells = n - 1  # the invisible click layer is the last trace
    # a cell away from the centre (the first decoded digit is z = (0, 0)): row 3, column 15 of the 20 x 20 grid
    target = page.evaluate(f"(() => {{ const d = document.querySelector('[data-testid=stMain] .js-plotly-plot')"
                           f"._fullData[{cells}]; return [d.x[3 * 20 + 15], d.y[3 * 20 + 15]]; }})()")
    x, y = page.evaluate(POINT_JS, [0, cells, 3 * 20 + 15])
    page.touchscreen.tap(x, y)  # one tap, as with a mouse click (explorer.render.styles.TAP_SELECTS_JS)
    heading = page.wait_for_function(
        "() => [...document.querySelectorAll('h3')].map(h => h.textContent)"
        ".find(t => t.startsWith('z = (') && !t.includes('+0.00, +0.00'))", timeout=30_000).json_value()
    # the tapped cell's centre itself, not a neighbour's: on a phone's smaller grid a neighbour is a few pixels away
    # (explorer.render.figures.decoder_grid_figure)
    assert heading == f"z = ({target[0]:+.2f}, {target[1]:+.2f})", (heading, target)
    page.get_by_text(heading).first.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "phone_decoder_grid_tapped.png"))
    assert page.locator(EXCEPTION).count() == 0


def test_one_tap_on_a_latent_map_dot_shows_that_digit(phone):
    url, page = phone
    open_on_phone(page, url, "latent_map")
    chart = page.locator('[data-testid="stMain"] .js-plotly-plot').first
    chart.scroll_into_view_if_needed()
    page.wait_for_function("() => document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullData")
    assert page.get_by_text("Click a dot on either map").count() == 1  # nothing selected yet
    x, y = page.evaluate(POINT_JS, [0, 1, 0])  # the first test digit labelled 1 on the VAE map
    page.touchscreen.tap(x, y)
    page.get_by_text(re.compile(r"^test #\d+$")).first.wait_for(timeout=30_000)
    assert page.get_by_text("Click a dot on either map").count() == 0
    assert page.locator(EXCEPTION).count() == 0


def test_the_overviews_digits_wrap_to_rows_of_five_on_a_phone(phone):
    url, page = phone
    open_on_phone(page, url, "")
    images = ".digit-strip img"
    page.wait_for_function(f"() => document.querySelectorAll('{images}').length >= 30")
    rows = page.evaluate(f"[...document.querySelectorAll('{images}')].slice(0, 10)"
                         ".map(i => [Math.round(i.getBoundingClientRect().top), i.getBoundingClientRect().width])")
    tops = [top for top, _ in rows]
    assert tops[:5] == [tops[0]] * 5 and tops[5:] == [tops[5]] * 5 and tops[5] > tops[0], tops
    assert all(40 <= width <= PHONE["width"] / 5 for _, width in rows), rows  # a fifth of the screen, not all of it


def test_repairs_damaged_repaired_and_original_digits_sit_in_one_row_on_a_phone(phone):
    url, page = phone
    open_on_phone(page, url, "repair")
    images = '.st-key-phone_picture [data-testid="stImage"] img'  # damaged, repaired, original
    page.wait_for_function(f"() => [...document.querySelectorAll('{images}')].slice(0, 3)"
                           ".filter(i => i.naturalWidth > 0).length == 3")
    boxes = page.evaluate(f"[...document.querySelectorAll('{images}')].slice(0, 3).map(i => {{"
                          " const r = i.getBoundingClientRect();"
                          " return [Math.round(r.top), Math.round(r.left), r.width]; })")
    assert len({top for top, _, _ in boxes}) == 1, f"the three digits are not in one row: {boxes}"
    assert all(60 <= width <= PHONE["width"] / 3 for _, _, width in boxes), boxes
    assert max(top for top, _, _ in boxes) < PHONE["height"] / 2, boxes


# (the bottom of Streamlit's header, the top of the page's "Copy link" button or None), scrolled to the top
COPY_UNDER_HEADER_JS = """() => { window.scrollTo(0, 0);
  const button = document.querySelector('[data-testid=stMain] [data-testid=stPopover] button');
  return [document.querySelector('[data-testid=stHeader]').getBoundingClientRect().bottom,
          button ? button.getBoundingClientRect().top : null]; }"""


# A page's first chart: (px of white under its plot area, below the x axis's labels; the figure's height)
WHITE_UNDER_JS = """() => { const l = document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullLayout;
  return [l.height - l.yaxis._offset - l.yaxis._length - l.margin.b, l.height]; }"""


@pytest.mark.parametrize("slug", ["latent_map", "interpolation", "repair"])
def test_a_map_on_a_phone_has_no_band_of_white_under_it(phone, slug):
    """An equal-aspect map is as wide as the phone: its figure's height follows, not a desktop's 600-640 px."""
    url, page = phone
    open_on_phone(page, url, slug)
    page.wait_for_function("() => document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullLayout")
    white, height = page.evaluate(WHITE_UNDER_JS)
    assert white < 80, f"/{slug}: {white:.0f} px of white under a {height}-px map"


def test_the_training_film_stacks_its_map_over_its_grid_on_a_phone(phone):
    url, page = phone
    open_on_phone(page, url, "film")
    page.wait_for_function("() => document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullLayout")
    layout = page.evaluate("""() => { const l = document.querySelector('[data-testid=stMain] .js-plotly-plot')._fullLayout;
      return {map: [l.xaxis._length, l.yaxis._offset + l.yaxis._length], grid: [l.xaxis2._length, l.yaxis2._offset]}; }""")
    assert layout["grid"][1] > layout["map"][1], f"the grid is not under the map: {layout}"
    assert min(layout["map"][0], layout["grid"][0]) > PHONE["width"] / 2, f"map or grid under half the width: {layout}"


@pytest.mark.parametrize("slug", ["interpolation", "latent_map"])
def test_the_map_comes_before_the_pages_controls_on_a_phone(phone, slug):
    """The interpolation's pickers of A and B, the latent map's toggles and colour choice: under the map."""
    url, page = phone
    open_on_phone(page, url, slug)
    top = "sel => document.querySelector(sel).getBoundingClientRect().top + window.scrollY"
    chart = page.evaluate(top, '[data-testid="stMain"] .js-plotly-plot')
    controls = page.evaluate(top, '[data-testid="stMain"] [data-testid="stSelectbox"]')
    assert chart < PHONE["height"] / 2 and chart < controls, (chart, controls)


# Compare on a phone: the pickers' boxes, the IWAE slider's, the figures table's and the right edge of each of its
# header cells (the models' names), and the element toolbars shown, as page coordinates.
COMPARE_BOXES_JS = """() => { const box = e => { const r = e.getBoundingClientRect();
    return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, right: r.right}; };
  const main = document.querySelector('[data-testid=stMain]'), all = sel => [...main.querySelectorAll(sel)];
  const table = main.querySelector('[data-testid=stTable]');
  return {pickers: all('[data-testid=stSelectbox]').map(box), slider: box(main.querySelector('[data-testid=stSlider]')),
          table: table && box(table), heads: table ? [...table.querySelectorAll('thead th')].map(th => box(th).right) : [],
          toolbars: all('[data-testid=stElementToolbar]').map(box)}; }"""


def test_compare_shows_both_models_figures_side_by_side_on_a_phone(phone):
    """Model B's column was past the screen's edge (a data grid wider than the page), a band of blank screen lay
    between the pickers of A and B, and the grid's toolbar was drawn over the IWAE slider."""
    url, page = phone
    open_on_phone(page, url, "compare")
    boxes = page.evaluate(COMPARE_BOXES_JS)
    assert boxes["table"], "no figures table"
    assert len(boxes["heads"]) == 3 and max(boxes["heads"]) <= PHONE["width"], boxes["heads"]
    a, b = boxes["pickers"][:2]
    assert b["top"] - a["bottom"] < 30, f"{b['top'] - a['bottom']:.0f} px between the pickers of A and B"
    assert all(t["top"] >= boxes["slider"]["bottom"] for t in boxes["toolbars"]), (boxes["toolbars"], boxes["slider"])
    assert boxes["table"]["top"] >= boxes["slider"]["bottom"]


# last in the file, and the Anomalies page last of all: the warm-up scores its digits meanwhile
@pytest.mark.parametrize("slug", [pytest.param(s, marks=pytest.mark.timeout(ANOMALIES + 60)) if s == "anomalies" else s
                                  for s in sorted(page_slugs(), key=lambda s: s == "anomalies")])  # it last: scored
def test_every_page_fits_a_phone_and_shows_its_picture_in_the_first_screen(phone, slug):
    url, page = phone
    OFF_MACHINE.clear()
    open_on_phone(page, url, slug)
    page.screenshot(path=str(SHOTS / f"phone_{slug or 'overview'}.png"))
    # a lecture hall may have no internet: the page, its icon and its fonts come from the laptop alone
    assert not OFF_MACHINE, f"/{slug} asked another machine for {sorted(set(OFF_MACHINE))}"
    assert page.locator(EXCEPTION).count() == 0, page.locator(EXCEPTION).first.inner_text()
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"/{slug} scrolls sideways: {width} px of content in a {inner} px window"
    top = page.evaluate("sel => Math.min(...[...document.querySelectorAll(sel)].map(e => e.getBoundingClientRect())"
                        "  .filter(r => r.height > 0).map(r => r.top + window.scrollY))", PICTURE)
    assert top < PHONE["height"], f"/{slug}: its picture starts at {top:.0f} px, below the first screen"
    # the folded introduction (two lines) ends before what follows it starts: nothing is drawn over its text
    gap = page.evaluate("""intro => {
      const box = document.querySelector(intro), text = box && box.querySelector('[data-testid=stCaptionContainer]');
      return text ? box.getBoundingClientRect().bottom - text.getBoundingClientRect().bottom : null; }""", INTRO)
    assert gap is None or gap >= -0.5, f"/{slug}: the introduction's last line runs {-gap:.0f} px under what follows"
    # Streamlit's header (fixed, opaque) hides nothing of the title row's "Copy link"
    header, copy = page.evaluate(COPY_UNDER_HEADER_JS)
    assert copy is None or copy >= header, f"/{slug}: the header hides the top {header - copy:.0f} px of Copy link"
