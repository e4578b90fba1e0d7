"""The README's "Use it from a notebook" example runs as printed, on real MNIST, and does what its comments say."""
import re
from pathlib import Path

import numpy as np

import vae_core as vc

README = Path(__file__).resolve().parent.parent / "README.md"


def notebook_example() -> str:
    """The first ```python block under the README's "## Use it from a notebook" heading."""
    section = README.read_text().split("\n## Use it from a notebook\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_example_is_short_and_uses_only_the_public_api():
    code = notebook_example()
    assert len(code.strip().splitlines()) <= 12
    assert set(re.findall(r"\bvc\.(\w+)", code)) <= set(vc.__all__)


def test_the_readme_notebook_example_runs(real_data):
    names = {}
    exec(compile(notebook_example(), str(README), "exec"), names)  # noqa: S102 -- our own README's code
    assert names["means"].shape == (256, 2) and np.isfinite(names["means"]).all()
    assert names["grid"].shape == (10, 10, 28, 28) and names["picture"].shape == (280, 280)
    assert set(names["scores"]) >= set(vc.SCORES) and all(names["scores"][s].shape == (32,) for s in vc.SCORES)
    damaged, observed, repaired = names["damaged"], names["observed"], names["repaired"]
    assert repaired.shape == (1, 784) and not observed[0, :392].any() and observed[0, 392:].all()
    np.testing.assert_array_equal(repaired[observed], damaged[observed])  # the pixels it saw are kept
    assert repaired[~observed].max() > 0.5  # and it drew strokes where the top half was missing
