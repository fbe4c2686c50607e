"""The page's CSV reader (service/api/static/csv.js), run in headless Chromium, reads the project's table of price
CSVs as the trainer and the client do: the same prices by date, or an error naming the same row and column."""

from __future__ import annotations

import base64

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.conftest import CSV_TABLE, csv_cases

READ = """
const [name, data, column, done] = arguments;
const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
window.PriceInput.readFile(new File([bytes], name), column)
  .then((found) => done(found), (err) => done({error: err.message}));
"""


@pytest.fixture(scope="module")
def page(browser: WebDriver, server: str) -> WebDriver:
    browser.get(f"{server}/")
    return browser


@pytest.mark.parametrize("case", csv_cases())
def test_the_page_reads_the_csv_table_as_written(page: WebDriver, case: dict) -> None:
    data = base64.b64encode((CSV_TABLE / case["file"]).read_bytes()).decode()
    found = page.execute_async_script(READ, case["file"], data, case["column"])
    if "error" in case:
        assert "error" in found and case["error"] in found["error"], found
        return
    assert found == {"column": case["read"], "dates": case["dates"], "prices": case["prices"]}
