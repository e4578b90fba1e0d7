"""The pure functions behind every click: selection event -> test index or z, class rank <-> index, and the grid's
click layer on the cell centres; the class labels written on a map, which leave its clickable points as they were."""
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import vae_core as vc
from explorer.render.clicks import (
    MAX_OUTLINES,
    MAX_VERTICES,
    digit_and_rank,
    index_of,
    is_region,
    selected_index,
    selected_indices,
    selected_points,
    selected_z,
    selection_outlines,
)
from explorer.render.figures import LABEL_GREY, decoder_grid_figure, digit_scatter
from explorer.render.palette import DIGIT_COLOURS

N = 10_000  # test digits


def event(*points):
    """The shape st.plotly_chart(on_select=...) returns (copied from a real browser click)."""
    return {"selection": {"points": list(points), "point_indices": [p.get("point_index") for p in points],
                          "box": [], "lasso": []}}


def point(custom, x=0.5, y=-0.25, curve=3, index=5):
    return {"curve_number": curve, "point_number": index, "point_index": index, "x": x, "y": y, "customdata": custom}


def test_typed_array_customdata_as_the_browser_sends_it():
    # numpy customdata reaches the browser as a typed array; Streamlit hands a row back as {"0": .., "1": ..}
    assert selected_index(event(point({"0": 44, "1": 3})), N) == 44


def test_list_and_scalar_customdata():
    assert selected_index(event(point([9635, 2])), N) == 9635
    assert selected_index(event(point(17)), N) == 17
    assert selected_index(event(point([7.0, 1])), N) == 7


def test_index_comes_from_customdata_not_the_per_trace_point_index():
    assert selected_index(event(point([1234, 3], index=5)), N) == 1234


def test_last_point_wins_and_bare_selection_dicts_work():
    ev = event(point([1, 0]), point([2, 0]))
    assert selected_index(ev, N) == 2
    assert selected_index(ev["selection"], N) == 2


@pytest.mark.parametrize("empty", [None, {}, event(), {"selection": {}}, {"selection": None}, "junk"])
def test_no_selection_means_none(empty):
    assert selected_points(empty) == []
    assert selected_index(empty, N) is None
    assert selected_z(empty) is None


def test_points_without_customdata_are_skipped():
    assert selected_index(event(point(None)), N) is None
    assert selected_index(event(point([5, 1]), point(None)), N) == 5


def test_selected_z_reads_the_clicked_coordinates():
    assert selected_z(event(point([0, 0], x=1.5, y=-2.25))) == (1.5, -2.25)
    assert selected_z(event({"x": None, "y": 1})) is None


def test_class_rank_and_test_index_are_inverse():
    labels = np.array([3, 1, 3, 0, 1, 3])
    assert index_of(labels, 3, 0) == 0 and index_of(labels, 3, 2) == 5 and index_of(labels, 1, 1) == 4
    for i in range(len(labels)):
        assert index_of(labels, *digit_and_rank(labels, i)) == i
    with pytest.raises(IndexError, match="rank 3 is out of range"):
        index_of(labels, 3, 3)
    with pytest.raises(ValueError, match="no test digit labelled 7"):
        index_of(labels, 7, 0)
    with pytest.raises(IndexError, match=r"test index 6 is outside 0\.\.5"):
        digit_and_rank(labels, 6)


def test_scatter_customdata_maps_every_point_back_to_its_test_digit():
    rng = np.random.default_rng(0)
    codes, labels = rng.standard_normal((300, 2)).astype(np.float32), rng.integers(0, 10, 300)
    fig = digit_scatter(codes, labels)
    assert [t.name for t in fig.data] == [str(d) for d in range(10)]
    for trace in fig.data:
        for k in range(len(trace.x)):  # simulate a click on point k of this trace
            i = selected_index(event(point(list(trace.customdata[k]), x=trace.x[k], y=trace.y[k])), len(labels))
            assert labels[i] == int(trace.name) and tuple(codes[i]) == (trace.x[k], trace.y[k])


@pytest.mark.parametrize("n, dtype", [(10_000, np.int16), (40_000, np.int32)])
def test_map_customdata_is_as_small_as_its_indices_allow_and_still_finds_the_digit(n, dtype):
    rng = np.random.default_rng(1)
    codes, labels = rng.standard_normal((n, 2)).astype(np.float32), rng.integers(0, 10, n)
    fig = digit_scatter(codes, labels)
    assert {t.customdata.dtype for t in fig.data} == {np.dtype(dtype)}
    last = next(t for t in fig.data if len(t.x))  # the digit of the highest index, as the browser sends its row
    row = {str(c): int(v) for c, v in enumerate(last.customdata[-1])}
    assert selected_index(event(point(row, x=last.x[-1], y=last.y[-1])), n) == np.flatnonzero(labels == int(last.name))[-1]


def test_grid_click_layer_sits_on_the_cell_centres():
    fig = decoder_grid_figure("data:image/png;base64,", 6, (-2.0, 2.0))
    layer = fig.data[-1]
    assert isinstance(layer, go.Scatter) and len(layer.x) == 36
    z1, z2 = vc.grid_axes(6, (-2.0, 2.0))  # decode_grid's layout: column c has z1[c], row r has z2[r]
    for k in range(36):
        row, col = layer.customdata[k]
        centre = (z1[int(col)], z2[int(row)])
        assert centre == pytest.approx((layer.x[k], layer.y[k]))
        assert selected_z(event(point(list(layer.customdata[k]), x=layer.x[k], y=layer.y[k]))) == pytest.approx(centre)


def test_grid_click_markers_are_smaller_than_any_cell_and_hover_finds_the_nearest():
    """Plotly ties every marker that covers the cursor and selects the last: the click markers stay within its least
    hover radius (3 px), the outline of the selected one takes a cell's size, and the nearest centre is looked for at
    any distance."""
    fig = decoder_grid_figure("data:image/png;base64,", 20, (-3.0, 3.0))
    layer = fig.data[-1]
    assert layer.marker.size <= 6 < layer.selected.marker.size
    assert fig.layout.hoverdistance == -1
    assert fig.layout.xaxis.fixedrange and fig.layout.yaxis.fixedrange  # a double tap does not zoom it out


# ------------------------------------------------------------------------------------------- box and lasso selection


def lasso_event(*points, box=(), lasso=()):
    """A box or lasso selection as st.plotly_chart returns it (the shape copied from a real browser's lasso)."""
    return {"selection": {"points": list(points), "point_indices": [p.get("point_index") for p in points],
                          "box": [{"xref": "x", "yref": "y", "x": list(b[0]), "y": list(b[1])} for b in box],
                          "lasso": [{"xref": "x", "yref": "y", "x": list(shape[0]), "y": list(shape[1])}
                                    for shape in lasso]}}


def test_a_lasso_gives_every_selected_test_index_once_and_sorted():
    # one trace per class: point indices repeat across traces, customdata does not; a digit in the highlight trace too
    ev = lasso_event(point({"0": 44, "1": 3}, index=0), point([9635, 2], index=0), point([7, 1], index=1),
                     point([44, 3], curve=10, index=0), point(None), lasso=[([0, 1, 1], [0, 0, 1])])
    chosen = selected_indices(ev, N)
    assert chosen.tolist() == [7, 44, 9635] and chosen.dtype == np.int64
    assert selected_indices(event(), N).tolist() == [] and selected_indices(None, N).tolist() == []


def test_a_box_or_lasso_is_a_region_a_click_is_not():
    assert is_region(lasso_event(point([1, 0]), box=[([0, 1], [0, 1])]))
    assert is_region(lasso_event(lasso=[([0, 1, 1], [0, 0, 1])]))  # an empty region is still one
    assert not is_region(event(point([1, 0])))
    assert not is_region(None) and not is_region({"selection": None})


def test_outlines_are_closed_polygons_in_data_units():
    ev = lasso_event(box=[((-1.0, 2.0), (0.5, 3.0))], lasso=[([0, 1, 1], [0, 0, 1]), ([0, 1], [0, 1])])
    assert selection_outlines(ev) == [([-1.0, 2.0, 2.0, -1.0], [0.5, 0.5, 3.0, 3.0]),  # a box's four corners
                                      ([0.0, 1.0, 1.0], [0.0, 0.0, 1.0])]  # the two-point "lasso" is no polygon
    assert selection_outlines(event(point([1, 0]))) == [] and selection_outlines("junk") == []


@pytest.mark.parametrize("value", [10**6, N, 1e300, -1, float("nan"), float("inf"), "x", 10**400])
def test_a_value_that_names_no_test_digit_selects_nothing(value):
    assert selected_index(event(point([value, 0])), N) is None
    assert selected_index(event(point([3, 0]), point([value, 0])), N) == 3  # the last digit that exists
    assert selected_indices(lasso_event(point([value, 0]), point([3, 0])), N).tolist() == [3]


def test_a_click_at_no_finite_z_selects_no_z():
    for x, y in [(float("nan"), 0.0), (0.0, float("inf")), (10**400, 0.0)]:
        assert selected_z(event(point([0, 0], x=x, y=y))) is None
    assert selected_z(event(point([0, 0], x=1.0, y=2.0), point([0, 0], x=float("nan"), y=0))) == (1.0, 2.0)


def test_a_selection_keeps_its_first_few_outlines_only():
    triangles = [([k, k + 1, k + 1], [0, 0, 1]) for k in range(1000)]
    outlines = selection_outlines(lasso_event(box=[((0, 1), (0, 1))], lasso=triangles))
    assert len(outlines) == MAX_OUTLINES
    assert outlines[1] == ([0.0, 1.0, 1.0], [0.0, 0.0, 1.0])  # the box, then the lassos in the order drawn


def test_a_long_lasso_is_thinned_evenly_to_max_vertices_keeping_its_ends():
    xs, ys = list(range(100_000)), [2 * x for x in range(100_000)]
    ((kept_x, kept_y),) = selection_outlines(lasso_event(lasso=[(xs, ys)]))
    assert len(kept_x) == MAX_VERTICES and kept_x[0] == 0 and kept_x[-1] == 99_999
    assert max(np.diff(kept_x)) - min(np.diff(kept_x)) <= 1 and kept_y == [2 * x for x in kept_x]
    short = ([0, 1, 1, 0], [0, 0, 1, 1])  # what a browser sends stays as it is
    assert selection_outlines(lasso_event(lasso=[short])) == [([0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0])]


def test_an_outline_with_a_point_that_is_not_finite_is_dropped():
    ev = lasso_event(lasso=[([0, 1, float("nan")], [0, 0, 1]), ([0, 1, 1], [0, float("inf"), 1]), ([0, 1, 1], [0, 0, 1])])
    assert selection_outlines(ev) == [([0.0, 1.0, 1.0], [0.0, 0.0, 1.0])]


# ---------------------------------------------------------------------------------------------- class labels on a map


def class_labels(fig) -> dict[str, object]:
    """The map's class label annotations by name ("class label 3")."""
    return {a.name: a for a in fig.layout.annotations if (a.name or "").startswith("class label")}


@pytest.fixture
def three_classes():
    rng = np.random.default_rng(4)
    codes = np.vstack([rng.normal(size=(200, 2)) * 0.4 + centre for centre in ((-2, 0), (2, 0), (0, 2))])
    return codes.astype(np.float32), np.repeat([1, 4, 9], 200)


def test_a_map_writes_each_class_present_once_in_bold_in_its_colour_on_one_of_its_own_points(three_classes):
    codes, labels = three_classes
    notes = class_labels(digit_scatter(codes, labels))
    assert sorted(notes) == [f"class label {d}" for d in (1, 4, 9)]
    for d in (1, 4, 9):
        note = notes[f"class label {d}"]
        assert note.text == f"<b>{d}</b>" and note.font.color == DIGIT_COLOURS[d] and note.showarrow is False
        assert (labels[(codes == (note.x, note.y)).all(axis=1)] == d).any()


def test_a_map_coloured_by_scores_writes_its_class_labels_in_grey(three_classes):
    codes, labels = three_classes
    notes = class_labels(digit_scatter(codes, labels, values=np.arange(600.0), value_name="score"))
    assert len(notes) == 3 and {n.font.color for n in notes.values()} == {LABEL_GREY}


def test_a_map_with_class_labels_off_has_no_label_annotations(three_classes):
    assert class_labels(digit_scatter(*three_classes, class_labels=False)) == {}


def test_class_labels_leave_the_traces_customdata_and_legend_alone_and_take_no_clicks(three_classes):
    labelled, plain = digit_scatter(*three_classes), digit_scatter(*three_classes, class_labels=False)
    labelled_spec, plain_spec = (json.loads(pio.to_json(fig)) for fig in (labelled, plain))
    assert len(labelled_spec["data"]) == 10 and labelled_spec["data"] == plain_spec["data"]  # customdata included
    assert len(labelled_spec["layout"].pop("annotations")) == 3 and labelled_spec["layout"] == plain_spec["layout"]
    for note in class_labels(labelled).values():  # Plotly passes the pointer through an annotation without these
        assert not note.captureevents and note.hovertext is None and not note.clicktoshow
