"""/docs and /redoc render their operations in headless Chromium that can reach nothing but 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from scripts.chromium import LOOPBACK_ONLY, chromium, console_errors


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[WebDriver]:
    with chromium(LOOPBACK_ONLY) as driver:
        yield driver


def test_the_browser_really_cannot_leave_loopback(offline_browser: WebDriver, server: str) -> None:
    offline_browser.get(f"{server}/docs")  # its favicon is inline: no request besides the one below
    fetched = offline_browser.execute_async_script(
        "const done = arguments[0]; fetch('https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css')"
        ".then(() => done('reached'), () => done('blocked'))"
    )
    assert fetched == "blocked"
    console_errors(offline_browser)  # drain the blocked fetch's console line


def test_swagger_ui_renders_every_operation_offline(offline_browser: WebDriver, server: str) -> None:
    offline_browser.get(f"{server}/docs")
    WebDriverWait(offline_browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock"))
    paths = {e.text for e in offline_browser.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")}
    assert {"/predict", "/health/ready", "/model", "/metrics"} <= paths
    assert console_errors(offline_browser) == []


def test_redoc_renders_the_operations_offline(offline_browser: WebDriver, server: str) -> None:
    offline_browser.get(f"{server}/redoc")
    WebDriverWait(offline_browser, 30).until(lambda d: "/predict" in d.find_element(By.TAG_NAME, "body").text)
    assert "Forecast" in offline_browser.find_element(By.TAG_NAME, "body").text
    credit = offline_browser.execute_script("return [...document.images].map((i) => [i.src, i.naturalWidth])")
    assert credit and all(src.startswith(server) and width > 0 for src, width in credit), credit  # a local logo
    assert console_errors(offline_browser) == []
