"""A page's view in its link: state -> link -> state gives the same view on every page, and any bad or stale parameter
falls back to its default with one notice, never an exception; in a running app the link is read once and the
address bar follows the values."""
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from explorer.page import url_state as us

MODELS = ("default", "beta4", "conv", "lesson-1")
SCHEMAS = {
    "latent_map": us.latent_map_schema(MODELS),
    "decoder_grid": us.decoder_grid_schema(MODELS),
    "interpolation": us.interpolation_schema(MODELS),
    "overview": us.model_schema("overview", MODELS),
    "anomalies": us.anomalies_schema(MODELS, ("neg_elbo", "reconstruction", "kl", "iwae", "corrected"),
                                     us.Float(80.0, 420.0, 120.0, step=0.1)),
    "compare": us.compare_schema(MODELS),
    "repair": us.repair_schema(MODELS),
}
VIEWS = {  # a view unlike the defaults on every field
    "latent_map": {"model": "lesson-1", "digit": 9999, "colour_by": "kl", "show_digits": True},
    "decoder_grid": {"model": "beta4", "grid": 37, "extent": 4.5, "z1": -1.23, "z2": 5.99, "overlay": True},
    "interpolation": {"model": "conv", "a": 0, "b": 4321, "mode": "spherical", "steps": 25, "t": 0.07},
    "overview": {"model": "lesson-1"},
    "anomalies": {"model": "conv", "score": "kl", "threshold": 311.7},
    "compare": {"model": "default", "a": "lesson-1", "b": "beta4"},
    "repair": {"model": "conv", "digit": 17, "damage": "rectangle", "sigma": 0.95, "p": 0.05, "rows": (0, 27),
               "cols": (5, 5), "half": "right", "iters": 30, "seed": 12},
}


def through_a_link(schema, values):
    """encode -> a real URL -> its query parsed as a browser's address would be -> parse."""
    url = us.link(schema, values, "http://example.org/" + schema.page)
    return us.parse(schema, parse_qs(urlsplit(url).query, keep_blank_values=True))


# ------------------------------------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("page", SCHEMAS)
def test_a_view_survives_the_trip_through_its_link(page):
    assert through_a_link(SCHEMAS[page], VIEWS[page]) == (VIEWS[page], [])


@pytest.mark.parametrize("page", SCHEMAS)
def test_the_default_view_survives_too_and_every_set_default_is_written_out(page):
    schema = SCHEMAS[page]
    defaults = schema.defaults()
    assert through_a_link(schema, defaults) == (defaults, [])
    assert set(us.encode(schema, defaults)) == {name for name, value in defaults.items() if value is not None}


def test_no_selected_digit_is_left_out_of_the_link_and_read_back_as_none():
    schema = SCHEMAS["latent_map"]
    params = us.encode(schema, {**VIEWS["latent_map"], "digit": None})
    assert "digit" not in params and us.parse(schema, params)[0]["digit"] is None


def test_an_empty_link_gives_the_defaults_without_a_notice():
    for schema in SCHEMAS.values():
        assert us.parse(schema, {}) == (schema.defaults(), [])


def test_slider_noise_in_a_float_does_not_reach_the_link():
    schema = SCHEMAS["decoder_grid"]
    params = us.encode(schema, {**VIEWS["decoder_grid"], "z1": 0.1 + 0.2, "extent": 2.4999999})
    assert params["z1"] == "0.3" and params["extent"] == "2.5"


# --------------------------------------------------------------------------------------------------- bad parameters

BAD = [  # page, parameter, value(s) in the link, words the notice must contain
    ("latent_map", "model", "gone-model", "not a known model"),
    ("latent_map", "digit", "10000", "outside 0–9999"),
    ("latent_map", "digit", "-1", "outside"),
    ("latent_map", "digit", "abc", "not a whole number"),
    ("latent_map", "digit", "12.5", "not a whole number"),
    ("latent_map", "digit", "9" * 5000, "not a whole number"),  # int() would refuse > 4300 digits with ValueError
    ("latent_map", "digit", ["1", "2"], "appears 2 times"),
    ("latent_map", "digit", "", "is empty"),
    ("latent_map", "colour_by", "rainbow", "not a known colouring"),
    ("latent_map", "show_digits", "maybe", "not true or false"),
    ("decoder_grid", "grid", "4", "outside 5–40"),
    ("decoder_grid", "extent", "nan", "not a finite number"),
    ("decoder_grid", "extent", "inf", "not a finite number"),
    ("decoder_grid", "z1", "-Infinity", "not a finite number"),
    ("decoder_grid", "z1", "1e999", "not a finite number"),
    ("decoder_grid", "z2", "6.5", "outside -6–6"),
    ("decoder_grid", "z2", "1_0", "not a number"),
    ("decoder_grid", "z2", "0x10", "not a number"),
    ("decoder_grid", "overlay", ["true", "false"], "appears 2 times"),
    ("interpolation", "a", "two", "not a whole number"),
    ("interpolation", "b", "10000", "outside"),
    ("interpolation", "mode", "cubic", "one of linear, spherical"),
    ("interpolation", "steps", "100", "outside 3–25"),
    ("interpolation", "t", "1.5", "outside 0–1"),
    ("interpolation", "t", "   ", "is empty"),
    ("overview", "model", "beta5", "not a known model"),
    ("anomalies", "score", "elbo", "not a known score"),
    ("anomalies", "threshold", "420.1", "outside 80–420"),
    ("compare", "b", "conv.pt", "not a known model"),
    ("repair", "digit", "10000", "outside 0–9999"),
    ("repair", "damage", "blur", "one of gaussian, salt_and_pepper, rectangle, half"),
    ("repair", "sigma", "0", "outside 0.05–1"),
    ("repair", "rows", "19-8", "ends before it starts"),
    ("repair", "rows", "8", "not a span of whole numbers"),
    ("repair", "cols", "0-28", "outside 0–27"),
    ("repair", "cols", "-1-5", "not a span of whole numbers"),
    ("repair", "half", "middle", "one of top, bottom, left, right"),
    ("repair", "iters", "0", "outside 1–30"),
    ("repair", "seed", "-1", "outside"),
]


@pytest.mark.parametrize("page, name, raw, reason", BAD, ids=[f"{p}-{n}-{str(r)[:12]}" for p, n, r, _ in BAD])
def test_a_bad_parameter_falls_back_to_its_default_with_one_notice_and_keeps_the_rest(page, name, raw, reason):
    schema, view = SCHEMAS[page], VIEWS[page]
    params = {k: [v] for k, v in us.encode(schema, view).items()}
    params[name] = raw if isinstance(raw, list) else [raw]
    values, notices = us.parse(schema, params)
    assert values == {**view, name: schema.fields[name].default}
    assert len(notices) == 1 and reason in notices[0] and f"`{name}=" in notices[0]
    assert "\n" not in notices[0] and len(notices[0]) < 200


def test_several_bad_parameters_give_one_notice_each():
    schema = SCHEMAS["interpolation"]
    values, notices = us.parse(schema, {"a": "x", "b": "-3", "mode": "zigzag", "t": "0.25"})
    assert len(notices) == 3 and values == {**schema.defaults(), "t": 0.25}


def test_parameters_the_schema_does_not_name_are_left_alone():
    schema = SCHEMAS["latent_map"]
    assert us.parse(schema, {"embed": "true", "presenter": "abc", "grid": "7"}) == (schema.defaults(), [])


def test_choices_ignore_case_and_numbers_snap_to_their_slider_step():
    values, notices = us.parse(SCHEMAS["decoder_grid"], {"model": "BETA4", "extent": "2.7", "z1": "0.123"})
    assert notices == [] and (values["model"], values["extent"], values["z1"]) == ("beta4", 2.5, 0.12)


def test_a_notice_quotes_the_bad_value_inertly_on_one_line_and_cut_short():
    hostile = "![x](http://evil.example/t.png)`<b>bold</b>`\n$x$" * 3
    (notice,) = us.parse(SCHEMAS["latent_map"], {"colour_by": hostile})[1]
    quoted = notice.split("`")[1]
    assert notice.count("`") == 2 and "\n" not in notice  # one code span: no Markdown, HTML or LaTeX rendered
    assert quoted.startswith("colour_by=![x](http://evil") and quoted.endswith("…")
    assert len(quoted) == len("colour_by=") + us.SHOWN + 1


def test_an_unknown_model_names_no_list_when_there_are_many_models():
    schema = us.latent_map_schema([f"m{i}" for i in range(20)])
    (notice,) = us.parse(schema, {"model": "m99"})[1]
    assert notice.endswith("is not a known model: showing the default (default).")


# ------------------------------------------------------------------------------------------------------- the link


@pytest.mark.parametrize("context, audience, expected", [
    ("http://localhost:8501/latent_map", None, "http://localhost:8501/latent_map"),
    ("https://host.example/course/latent_map", None, "https://host.example/course/latent_map"),
    ("http://localhost:8501/", None, "http://localhost:8501/latent_map"),
    (None, None, "http://localhost:8501/latent_map"),
    ("http://localhost:8501/latent_map", "http://192.168.1.20:8501/", "http://192.168.1.20:8501/latent_map"),
])
def test_the_link_is_on_the_audience_address_else_on_this_browsers(context, audience, expected):
    assert us.page_url("latent_map", context, audience) == expected


def test_the_link_carries_the_view():
    url = us.link(SCHEMAS["interpolation"], VIEWS["interpolation"], "http://h:8501/interpolation")
    assert url == "http://h:8501/interpolation?model=conv&a=0&b=4321&mode=spherical&steps=25&t=0.07"


def test_a_link_names_models_by_their_file_stem(tmp_path, tiny_checkpoint):
    trained = tiny_checkpoint(tmp_path / "ckpts" / "lesson-1.pt")  # the checkpoint folder tests use (conftest.py)
    assert us.model_names()[0] == "default" and "lesson-1" in us.model_names()
    assert us.checkpoint_named("lesson-1") == trained and us.checkpoint_named("nope") is None


# -------------------------------------------------------------------------------------------------- in a running app


def url_state_app():
    """A page that restores its view from the link into its widgets, shows a slider, and publishes the view."""
    import streamlit as st

    from explorer.page import url_state as us

    schema = us.decoder_grid_schema(["default", "beta4"])
    view = dict(us.restore(schema, into={"grid": "grid_size"}))
    view["grid"] = st.slider("G", 5, 40, key="grid_size")
    st.write(f"runs: {st.session_state.setdefault('runs', 0) + 1}")
    st.session_state["runs"] += 1
    us.publish(schema, view)
    us.copy_link(schema, view)


def running(query: dict) -> AppTest:
    at = AppTest.from_function(url_state_app, default_timeout=30)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_fresh_session_opens_the_linked_view_and_writes_every_field_back():
    at = running({"model": "beta4", "grid": "33", "z1": "1.5", "presenter": "x"})
    assert at.slider(key="grid_size").value == 33 and not at.toast
    assert at.query_params == {"model": "beta4", "grid": "33", "extent": "3.0", "z1": "1.5", "z2": "0.0",
                               "overlay": "false", "presenter": "x"}  # another owner's parameter is kept


def test_a_bad_link_shows_its_notices_and_the_default_view():
    at = running({"grid": "400", "model": "nope"})
    assert at.slider(key="grid_size").value == 20
    assert len(at.toast) == 2 and "grid=400" in at.toast[0].value + at.toast[1].value
    assert at.query_params["grid"] == "20" and at.query_params["model"] == "default"


def test_the_link_is_read_once_then_the_widgets_own_the_view():
    at = running({"grid": "33"})
    at.slider(key="grid_size").set_value(12).run()
    assert at.slider(key="grid_size").value == 12 and at.query_params["grid"] == "12"
    at.run()
    assert at.slider(key="grid_size").value == 12  # the link's 33 is not read again


def test_the_copy_link_popover_holds_the_link_of_the_view_once_opened():
    at = running({"grid": "33"})
    assert not at.get("code")  # closed: no link made
    at.session_state[us.COPY.format(page="decoder_grid")] = True  # opened (it reruns the page)
    at.slider(key="grid_size").set_value(12).run()
    (code,) = at.get("code")
    assert code.value.startswith("http://localhost:8501/decoder_grid?") and "grid=12" in code.value
