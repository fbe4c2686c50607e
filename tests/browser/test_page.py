"""The page at /, driven in headless Chromium against the real server process: card, plots, CSV, errors."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from scripts.chromium import console_errors
from tests.conftest import ROOT, TEST_DATA
from training.core.csvfile import load_csv

ARTEFACTS = ROOT / ".test-artifacts"
GOOGLE = TEST_DATA / "Google_Stock_Price_Train.csv"  # the tutorial's file: quoted thousands, " Volume"


def open_page(browser: WebDriver, base: str) -> None:
    browser.get(f"{base}/")
    WebDriverWait(browser, 20).until(lambda d: not d.find_element(By.ID, "model-facts").get_attribute("hidden"))


def submit(browser: WebDriver, *, csv: Path | None = None, paste: str | None = None, column: str = "") -> None:
    """Fills the form as a person would and submits it; waits for a forecast or an error."""
    browser.execute_script("document.getElementById('try-form').reset()")
    if csv is not None:
        browser.find_element(By.ID, "csv-file").send_keys(str(csv))
    if paste is not None:
        browser.find_element(By.ID, "prices").send_keys(paste)
    if column:
        browser.find_element(By.ID, "column").send_keys(column)
    # busy from before the click: the page clears the error at once and fills it in after reading the file
    browser.execute_script("document.getElementById('try-form').setAttribute('aria-busy', 'true')")
    browser.find_element(By.ID, "forecast-button").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "try-form").get_attribute("aria-busy") is None)


def error_text(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "input-error").text


def test_page_shows_the_live_model_and_its_record_without_console_errors(
    browser: WebDriver, server: str, model_pair: tuple[Path, str, str]
) -> None:
    open_page(browser, server)
    facts = browser.find_element(By.ID, "model-facts").text
    assert model_pair[2] in facts and "CPUExecutionProvider" in facts and "0.025, 0.1, 0.5, 0.9, 0.975" in facts
    table = browser.find_element(By.ID, "record-table").text
    for row in ("naive + GARCH(1,1)-t", "naive + GJR-GARCH-skew-t", "naive + FHS", "naive + EWMA Gaussian"):
        assert row in table
    card = httpx.get(f"{server}/model").json()
    per_series = browser.find_element(By.ID, "series-table").text  # the best simple method, series by series
    for row in card["metrics"]["test"]["per_series"]:
        best = row["best_simple"].removeprefix("naive + ")
        assert f"{row['series']} {row['days']} {best} {row['ratio_to_best']:.4f}" in per_series
    longest = browser.find_element(By.ID, "longest-table").text  # the same days with the longest window
    for row in card["metrics"]["test_longest"]["per_series"]:
        assert f"{row['series']} {row['days']} {row['best_simple'].removeprefix('naive + ')}" in longest
    facts = browser.find_element(By.ID, "model-facts").text
    assert "60 to 300 prices in" in facts and card["quality_gate"]["rules"][1] in facts
    for image in ("plot-test", "plot-calibration"):  # the live version's own PNGs, actually decoded
        assert browser.execute_script(f"return document.getElementById('{image}').naturalWidth") > 100
    assert console_errors(browser) == []


@pytest.mark.parametrize("csv", [GOOGLE, ROOT / "training" / "data" / "sp500.csv.gz"], ids=["tutorial", "bundled"])
def test_a_real_csv_draws_the_fan_chart_with_predicts_answer(browser: WebDriver, server: str, csv: Path) -> None:
    open_page(browser, server)
    submit(browser, csv=csv)
    assert error_text(browser) == ""
    series = load_csv(csv)  # the trainer's reading of the same file (Adj Close or Close, thousands unquoted)
    n = httpx.get(f"{server}/model").json()["max_window"]  # the page posts all the model reads
    body = {"window": series.prices[-n:].tolist(), "dates": series.dates[-n:].astype(str).tolist()}
    answer = httpx.post(f"{server}/predict", json=body).json()
    shown = browser.find_element(By.ID, "forecast-value").text
    assert shown == f"{answer['forecast']:,.2f}"
    text = browser.find_element(By.ID, "forecast-text").text
    assert f"Forecast for {answer['forecast_date']}" in text
    q = answer["quantiles"]
    assert f"80% interval {q['0.1']:,.2f} to {q['0.9']:,.2f}" in text
    assert f"95% interval {q['0.025']:,.2f} to {q['0.975']:,.2f}" in text
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart svg polygon")) == 2  # the 80% and 95% fans
    assert console_errors(browser) == []
    ARTEFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTEFACTS / "page.png"))
    assert (ARTEFACTS / "page.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("kind", "content", "column", "message"),
    [
        ("csv", "Date,Close\n2020-01-02,10\n2020-01-03,11\n", "", "2 price(s) given; the model needs at least 60"),
        ("csv", "Date,Close\n2020-01-02,10\n2020-01-03,abc\n", "", "row 3: column 'Close': 'abc' is not a number"),
        ("csv", "Date,Open,Close\n2020-01-02,1,2\n", "Nope", "row 1: unknown column 'Nope'"),
        ("csv", "Date,Open,High\n2020-01-02,1,2\n", "", "no 'Adj Close' or 'Close' column"),
        ("paste", "", "", "paste some prices first, or choose a CSV file"),
        ("paste", "12 abc 14", "", "price 2 ('abc') is not a positive number"),
        # the server's own message, shown as it is: 1e39 is finite for JavaScript, not for float32
        ("paste", " ".join(["100"] * 59 + ["1e39"]), "", "window[59] is 1e+39; values must be positive finite"),
    ],
)
def test_bad_input_shows_its_message_next_to_the_input(
    browser: WebDriver, server: str, tmp_path: Path, kind: str, content: str, column: str, message: str
) -> None:
    open_page(browser, server)
    if kind == "csv":
        path = tmp_path / "bad.csv"
        path.write_text(content)
        submit(browser, csv=path, column=column)
        culprit = "csv-file"
    else:
        submit(browser, paste=content)
        culprit = "prices"
    assert message in error_text(browser)
    assert browser.find_element(By.ID, culprit).get_attribute("aria-invalid") == "true"
    assert not browser.find_element(By.ID, "result").is_displayed()


def press(browser: WebDriver, *keys: str) -> None:
    """Keys typed into whatever has the focus, as a keyboard would (no element is clicked)."""
    ActionChains(browser).send_keys(*keys).perform()


def tab_to(browser: WebDriver, element_id: str) -> None:
    for _ in range(40):
        if browser.switch_to.active_element.get_attribute("id") == element_id:
            return
        press(browser, Keys.TAB)
    raise AssertionError(f"Tab never reached #{element_id}")


def test_the_form_works_with_the_keyboard_alone(browser: WebDriver, server: str) -> None:
    open_page(browser, server)
    tab_to(browser, "prices")
    prices = [round(float(p), 2) for p in load_csv(GOOGLE).prices[-60:]]
    press(browser, " ".join(f"{p:.2f}" for p in prices))
    tab_to(browser, "forecast-button")
    press(browser, Keys.ENTER)
    WebDriverWait(browser, 20).until(lambda d: d.find_element(By.ID, "result").is_displayed())
    answer = httpx.post(f"{server}/predict", json={"window": prices}).json()
    assert browser.find_element(By.ID, "forecast-value").text == f"{answer['forecast']:,.2f}"
