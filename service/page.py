"""The web page at / (static files, no build step) and the live version's plots, served read-only."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from service import inference
from service.errors import NotFound

STATIC = Path(__file__).parent / "static"
# The only files of a version directory the page may fetch: a fixed list, so no path can leave it.
VERSION_FILES = {"test_forecast.png": "image/png", "calibration.png": "image/png"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")


@router.get("/model/files/{name}")
async def version_file(request: Request, name: str) -> Response:
    """A plot the trainer wrote beside the live model (404 for any other name, or when it has none)."""
    model = inference.live_model(request.app.state.registry)
    if name not in VERSION_FILES or not (model.path / name).is_file():
        raise NotFound(f"version {model.version} has no file {name!r}; it may have {sorted(VERSION_FILES)}")
    return FileResponse(model.path / name, media_type=VERSION_FILES[name], headers={"Cache-Control": "no-cache"})
