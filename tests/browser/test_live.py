"""The page's live calibration, in headless Chromium: a series replayed through the real server is drawn with its
rolling 250-day coverage inside the band, and its numbers are /calibration's, beside the test split's."""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from client.api import ForecastClient
from client.csvfile import read_prices
from client.replay import replay
from scripts.chromium import console_errors
from tests.conftest import cut_csv


def live_figures(browser: WebDriver, base: str) -> dict[str, str]:
    """Opens the page and waits for its live calibration: {series: caption}."""
    browser.get(f"{base}/")
    WebDriverWait(browser, 20).until(lambda d: "Loading" not in d.find_element(By.ID, "live-status").text)
    figures = browser.find_elements(By.CSS_SELECTOR, "#live-series figure")
    return {f.get_attribute("data-series") or "": f.find_element(By.TAG_NAME, "figcaption").text for f in figures}


def test_the_page_says_when_nothing_is_scored_yet(browser: WebDriver, server: str) -> None:
    assert live_figures(browser, server) == {}
    assert "No forecast of this version has been scored yet" in browser.find_element(By.ID, "live-status").text


def test_a_replayed_series_is_drawn_with_its_rolling_coverage(browser: WebDriver, server: str, tmp_path: Path) -> None:
    prices = read_prices(cut_csv(tmp_path / "sp500.csv", 420, start=2000))
    with ForecastClient(server) as client:
        done = replay(client, prices, series="S&P 500 replayed")  # outcomes posted: every day but the last scored
        replay(client, read_prices(cut_csv(tmp_path / "short.csv", 100, start=3000)))  # matched windows only
    body = httpx.get(f"{server}/calibration", params={"rolling": "true", "series": "S&P 500 replayed"}).json()
    row = body["series"][0]
    assert row["scored"] == len(done.days) - 1 and row["rolling"]["windows"] == row["scored"] - 249

    captions = live_figures(browser, server)
    assert len(captions) == 2 and console_errors(browser) == []
    caption = captions["S&P 500 replayed"]
    card = httpx.get(f"{server}/model").json()
    for label, nominal in (("0.8", "80"), ("0.95", "95")):
        assert f"{nominal}% interval: {100 * row['coverage'][label]:.1f}% live" in caption
        assert f"last 250 days {100 * row['last_250']['coverage'][label]:.1f}%" in caption
        assert f"{100 * row['rolling']['outside_band'][label]:.1f}% of 250-day windows outside the band" in caption
        assert f"{100 * card['interval_coverage'][nominal]:.1f}% on the test split" in caption
    figure = browser.find_element(By.CSS_SELECTOR, '#live-series figure[data-series="S&P 500 replayed"]')
    for nominal in ("80", "95"):  # a point per rolling window answered, the band behind it
        path = figure.find_element(By.CSS_SELECTOR, f"path.coverage-{nominal}").get_attribute("d") or ""
        assert path.count("L") == len(row["rolling"]["day"]) - 1
        assert figure.find_elements(By.CSS_SELECTOR, f"rect.band-{nominal}")
    short = next(c for name, c in captions.items() if name != "S&P 500 replayed")
    assert "The rolling plot starts at 250 scored days" in short  # 40 days scored: numbers, no plot yet
