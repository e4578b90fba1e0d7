"""Page-wide styles navigation.py injects once for every page. Imports nothing heavy: it is used before torch is."""

# Browsers smooth images they rescale; this keeps digit pixels square on a projector.
CRISP_CSS = "<style>img, .js-plotly-plot image { image-rendering: pixelated; }</style>"

# A phone (the audience of a room opens the link on one): the page's picture in the first screen, the explanation
# folded. Streamlit does not know the viewport on the server, so this is CSS for narrow screens only; a desktop or
# projector, wider than PHONE_MAX_PX, sees no change.
# - the gaps and the title shrink; the title keeps its "Copy link" beside it, not below; the top padding shrinks
#   but still clears Streamlit's header (fixed, opaque, HEADER tall), which would hide the top of "Copy link";
# - stacked columns are as far apart as any other two elements: a gap="large" between columns (Compare's pickers of
#   A and B) is a gap across the screen, and stacked it became a band of blank screen between them;
# - the paragraph under the title folds to two lines, and a tap (or hover) on it unfolds it; folded, it drops
#   Streamlit's negative bottom margin (it offsets the paragraph's own margin, which the fold hides), else what follows
#   is drawn over the second line;
# - Plotly's mode bar is hidden: it covered the chart titles, and touch pans and zooms without it;
# - a page's container keyed "phone_fold..." folds to a few lines (a tap unfolds it); one keyed "phone_controls"
#   moves below the one keyed "phone_picture" (flex order; what followed the picture stays after both);
# - the columns in a container keyed "phone_row..." stay side by side, three to a row, rather than stacking one under
#   another at full width (Repair's damaged, repaired and original digits: stacked, they filled three screens);
# - a row of digits (explorer.render.gallery.digit_strip_html) wraps to rows of STRIP_PHONE_COLUMNS.
PHONE_MAX_PX = 640  # Streamlit stacks columns below this width too
HEADER = "3.75rem"  # the height of Streamlit's header (stHeader), drawn over the top of the page
PHONE_GAP = "0.6rem"  # between two elements of a phone's page
STRIP_CLASS = "digit-strip"
STRIP_PHONE_COLUMNS = 5
MAIN = '[data-testid="stMainBlockContainer"]'
TITLE_ROW = f'{MAIN} > [data-testid="stVerticalBlock"] > [data-testid="stLayoutWrapper"]:first-child:has(h1)'
WRAPPER = '[data-testid="stLayoutWrapper"]'
CAPTION = '[data-testid="stElementContainer"]:has([data-testid="stCaptionContainer"])'
TITLE = f'{MAIN} > [data-testid="stVerticalBlock"] > [data-testid="stElementContainer"]:has(h1)'  # a bare st.title
INTRO = f':is({TITLE_ROW}, {TITLE}) + {CAPTION}'
PHONE_CSS = f"""<style>
@media (max-width: {PHONE_MAX_PX}px) {{
  {MAIN} {{ padding: calc({HEADER} + 0.25rem) 0.75rem 2rem; }}
  {MAIN} [data-testid="stVerticalBlock"] {{ gap: {PHONE_GAP}; }}
  {MAIN} [data-testid="stHorizontalBlock"] {{ row-gap: {PHONE_GAP}; }}
  {MAIN} h1 {{ font-size: 1.6rem; line-height: 1.2; padding: 0.25rem 0; }}
  {MAIN} h2 {{ font-size: 1.35rem; padding: 0.5rem 0 0.25rem; }}
  {TITLE_ROW} > [data-testid="stHorizontalBlock"] {{ flex-wrap: nowrap; align-items: center; }}
  {TITLE_ROW} [data-testid="stColumn"] {{ width: auto !important; flex: 1 1 auto; min-width: 0; }}
  {TITLE_ROW} [data-testid="stColumn"]:last-child {{ flex: 0 0 auto; }}
  {INTRO} [data-testid="stCaptionContainer"] {{ display: -webkit-box; -webkit-box-orient: vertical;
    -webkit-line-clamp: 2; overflow: hidden; cursor: pointer; }}
  {INTRO}:hover [data-testid="stCaptionContainer"], {INTRO}:active [data-testid="stCaptionContainer"] {{
    -webkit-line-clamp: unset; }}
  {INTRO} [data-testid="stCaptionContainer"] {{ margin-bottom: 0; }}
  .js-plotly-plot .modebar-container {{ display: none !important; }}
  [class*="st-key-phone_fold"] {{ max-height: 6.5rem; overflow: hidden; cursor: pointer;
    -webkit-mask-image: linear-gradient(to bottom, black 60%, transparent); }}
  [class*="st-key-phone_fold"]:hover, [class*="st-key-phone_fold"]:active {{ max-height: none;
    -webkit-mask-image: none; }}
  {WRAPPER}:has(> .st-key-phone_controls) {{ order: 1; }}
  {WRAPPER}:has(> .st-key-phone_picture) ~ * {{ order: 2; }}
  [class*="st-key-phone_row"] [data-testid="stHorizontalBlock"] {{ flex-wrap: wrap; }}
  [class*="st-key-phone_row"] [data-testid="stColumn"] {{ flex: 1 1 28% !important; min-width: 0 !important;
    width: auto !important; }}
  .{STRIP_CLASS} {{ grid-template-columns: repeat({STRIP_PHONE_COLUMNS}, minmax(0, 1fr)) !important; }}
}}
</style>"""

# A touch screen: one tap on a chart's point selects it, as a click does with a mouse. Plotly selects the point under
# a click from its last hover, and a touch screen has no hover before the tap: the first tap only showed the point's
# label and the second selected it (the decoder grid decoded on the second tap). A touch on a chart's plot area now
# first moves Plotly's hover there, so the tap's own click finds the point. Inert without touch.
TAP_SELECTS_JS = """<script>
if (!window.__vaeTapSelects) {
  window.__vaeTapSelects = true;
  document.addEventListener("touchstart", (event) => {
    const touch = event.touches[0];
    const plotArea = event.target.closest && event.target.closest(".js-plotly-plot .nsewdrag");
    if (!touch || !plotArea) return;
    plotArea.dispatchEvent(new MouseEvent("mousemove", {clientX: touch.clientX, clientY: touch.clientY, bubbles: true}));
  }, {capture: true, passive: true});
}
</script>"""
