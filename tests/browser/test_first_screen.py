"""What a new user sees first: the form and, once submitted, the fan chart, above the model's card; the simulated
training paths summarised in one line and folded away; and the docs' screenshot is of the bundled model."""

from __future__ import annotations

import httpx
from PIL import Image
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import ROOT
from training.core.data import DEFAULT_TRAINING_DATA

FIRST_SCREEN = 800  # px: a laptop's window, browser chrome taken off


def top(browser: WebDriver, element_id: str) -> float:
    return float(browser.execute_script(f"return document.getElementById('{element_id}').getBoundingClientRect().top"))


def test_the_form_and_the_chart_come_before_the_card(browser: WebDriver, bundled: tuple[str, str]) -> None:
    base, version = bundled
    browser.get(f"{base}/")
    WebDriverWait(browser, 20).until(lambda d: version in d.find_element(By.ID, "model-status").text)
    assert top(browser, "forecast-button") < FIRST_SCREEN  # the form is on the first screen
    assert top(browser, "try-heading") < top(browser, "model-heading") < top(browser, "record-heading")
    in_form_section = "return document.getElementById('result').closest('section').getAttribute('aria-labelledby')"
    assert browser.execute_script(in_form_section) == "try-heading"  # the fan chart appears under the form


def test_the_simulated_paths_are_one_line_and_folded_below_the_real_series(
    browser: WebDriver, bundled: tuple[str, str]
) -> None:
    base, version = bundled
    browser.get(f"{base}/")
    WebDriverWait(browser, 20).until(lambda d: version in d.find_element(By.ID, "model-status").text)
    card = httpx.get(f"{base}/model").json()
    rows = card["metrics"]["test"]["per_series"]
    real, simulated = [r for r in rows if not r["simulated"]], [r for r in rows if r["simulated"]]
    assert len(real) == len(DEFAULT_TRAINING_DATA) and len(simulated) == 24
    facts = browser.find_element(By.ID, "model-facts").text
    assert "24 simulated paths, GARCH-t and GJR-skew-t" in facts and "#2" not in facts
    shown = browser.find_elements(By.CSS_SELECTOR, "#series-table tbody tr")
    assert [r.text.split()[0] for r in shown] == [r["series"] for r in real]
    folded = browser.find_element(By.ID, "simulated-series")
    assert folded.get_attribute("open") is None and not browser.find_element(By.ID, "simulated-table").is_displayed()
    assert browser.find_element(By.ID, "simulated-summary").text.startswith("24 simulated paths, GARCH-t and GJR")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#simulated-table tbody tr")) == 24


def test_the_docs_screenshot_is_of_the_bundled_model(bundled: tuple[str, str]) -> None:
    """reports/page.png is written by `make screenshot`, which records the version the page showed."""
    with Image.open(ROOT / "reports" / "page.png") as shot:
        assert shot.text.get("model_version") == bundled[1], "run `make screenshot` and commit reports/page.png"
        assert shot.size[0] == 1200
