"""The light sortable table (dashboard.components.tables): what the browser is sent, and, in Chromium, how it
sorts and that a value is never read as markup."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from dashboard.components import tables
from tests.dashboard.conftest import light_frame

SHOWN = pd.DataFrame({
    "model": ["<img src=x onerror=document.title='owned'>", "beta", "gamma", "delta"],
    "value": [0.5, np.nan, 0.25, 0.125],
    "n": np.array([10, 9, 100, 30], dtype="int64"),
    "derived": [True, False, True, False],
    "coverage": [1.0, 0.5, 0.97, np.nan],
})


def test_payload_carries_raw_values_for_sorting_and_formatted_text_for_reading():
    sent = tables.payload(SHOWN, formats={"value": "{:.3f}"}, bars=["coverage"], missing={"value": "n/a"},
                          labels={"n": "items"})
    assert [c["label"] for c in sent["columns"]] == ["model", "value", "items", "derived", "coverage"]
    assert [c["numeric"] for c in sent["columns"]] == [False, True, True, False, True]
    assert [c["bar"] for c in sent["columns"]] == [False, False, False, False, True]
    assert sent["values"][1] == ["beta", None, 9, False, 0.5]  # NaN travels as null, numpy ints as ints
    assert all(type(row[2]) is int for row in sent["values"])
    assert sent["text"][1] == ["beta", "n/a", "9", "no", "50%"]
    assert sent["text"][3][4] == "–"  # a missing share: the default missing text
    assert sent["text"][0][0] == SHOWN["model"][0]  # the text as it is: the page writes it as text, never markup
    assert sent["muted"] == [] and sent["max_height"] is None


def test_muted_cells_are_sent_by_position_and_the_frame_round_trips():
    muted = SHOWN.isna()
    sent = tables.payload(SHOWN, muted=muted)
    assert sent["muted"] == [[1, 1], [3, 4]]
    back = light_frame(sent)
    assert list(back.columns) == list(SHOWN.columns)
    assert back["n"].tolist() == SHOWN["n"].tolist()
    assert math.isnan(back["value"][1]) and back["value"][0] == 0.5


def test_infinite_values_sort_at_their_end_and_read_as_infinity():
    sent = tables.payload(pd.DataFrame({"ratio": [1.5, float("inf"), float("-inf")], "name": ["a", None, "c"]}))
    assert json.loads(json.dumps(sent, allow_nan=False))  # valid JSON: no NaN or Infinity tokens
    assert sent["values"][1][0] > 1.5 > sent["values"][2][0]
    assert [row[0] for row in sent["text"]] == ["1.5", "inf", "-inf"]
    assert sent["text"][1][1] == "–" and sent["values"][1][1] is None


def test_a_long_table_scrolls_inside_its_frame_unless_every_row_is_asked_for():
    long = pd.DataFrame({"x": range(tables.MAX_ROWS_SHOWN + 5)})
    assert tables.payload(long)["max_height"] == tables.ROW_HEIGHT_PX * (tables.MAX_ROWS_SHOWN + 1)
    assert tables.payload(long, max_rows=None)["max_height"] is None
    assert tables.payload(long.head(3))["max_height"] is None


APP = """
import sys
sys.path.insert(0, {repo!r})
import pandas as pd, numpy as np
from dashboard.components import tables
from tests.dashboard.conftest import light_frame
frame = pd.DataFrame({frame!r})
tables.sortable(frame, key="t", formats={{"value": "{{:.3f}}"}}, bars=["coverage"])
"""


@pytest.mark.browser
def test_in_chromium_headers_sort_numbers_as_numbers_with_empty_cells_last_and_markup_stays_text(tmp_path, seeded):
    import browser

    reason = browser.browser_available()
    if reason:
        pytest.skip(f"real-browser test skipped: {reason}")
    script = tmp_path / "table_app.py"
    script.write_text(APP.format(repo=str(browser.REPO), frame=SHOWN.replace({np.nan: None}).to_dict("list")))
    with browser.serve(seeded, app=script) as url, browser.chromium() as page:
        browser.open_page(page, f"{url}/")
        table = page.locator('[data-testid="alTable"] table')

        def column(name: str) -> list[str]:
            at = table.locator("th").all_inner_texts().index(name)
            return [row.locator("td").nth(at).inner_text() for row in table.locator("tbody tr").all()]

        def header(name: str):
            return table.locator("th").nth(table.locator("th").all_inner_texts().index(name))

        assert column("model")[0] == SHOWN["model"][0]  # shown as text
        assert page.locator('[data-testid="alTable"] img').count() == 0 and page.title() != "owned"
        assert "gamma" in page.content()  # in the page's own document, where the secrets canary reads
        header("n").click()
        assert column("n") == ["9", "10", "30", "100"]  # as numbers, not as text ("10" < "100" < "30")
        header("value").click()
        assert column("value") == ["0.125", "0.250", "0.500", "–"]  # empty last
        header("value").click()
        assert column("value") == ["0.500", "0.250", "0.125", "–"]  # empty last both ways
        header("value").press("Enter")  # the keyboard sorts as a click does
        assert column("n") == ["10", "9", "100", "30"]  # the third time: the page's own order again
        assert table.locator("td.bar").count() == 3  # a bar under each known share
