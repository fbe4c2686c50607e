"""`make screenshot`: the page as a new user first sees it (the bundled default model, the tutorial's Google CSV
forecast), written to reports/page.png with the model version it shows in the PNG's metadata."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from scripts.chromium import chromium
from training.publish.bundled import install_default

ROOT = Path(__file__).resolve().parents[1]
CSV = ROOT / "tests" / "data" / "Google_Stock_Price_Train.csv"
WIDTH, HEIGHT = 1200, 1500  # the first screens of a laptop: the form, the fan chart and the card's top


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def bundled_service() -> Iterator[tuple[str, str]]:
    """`python -m service` over a fresh copy of the bundled default model: (base URL, its version)."""
    with tempfile.TemporaryDirectory() as tmp:
        version = install_default(Path(tmp) / "models")
        assert version is not None
        port = free_port()
        env = {**os.environ, "FORECAST_MODEL_DIR": str(Path(tmp) / "models"), "FORECAST_PORT": str(port)}
        env["FORECAST_STORE"] = str(Path(tmp) / "forecasts.sqlite")
        server = subprocess.Popen([sys.executable, "-m", "service"], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            yield base, version
        finally:
            server.terminate()
            server.wait(timeout=30)


def capture(base: str, version: str, out: Path) -> None:
    """The page with the CSV's forecast drawn, once it says which version serves; the version in the metadata."""
    with chromium(f"--window-size={WIDTH},{HEIGHT}") as browser:
        browser.get(f"{base}/")
        WebDriverWait(browser, 30).until(lambda d: version in d.find_element(By.ID, "model-status").text)
        browser.find_element(By.ID, "csv-file").send_keys(str(CSV))
        browser.find_element(By.ID, "forecast-button").click()
        WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "result").is_displayed())
        raw = out.with_suffix(".raw.png")
        assert browser.save_screenshot(str(raw)), "the browser took no screenshot"
    info = PngInfo()
    info.add_text("model_version", version)
    with Image.open(raw) as image:
        image.save(out, pnginfo=info, optimize=True)
    raw.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "page.png")
    args = parser.parse_args()
    with bundled_service() as (base, version):
        capture(base, version, args.out)
    print(f"{args.out}: the page serving {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
