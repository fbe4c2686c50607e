"""The web page at / (static files, no build step), the live version's plots, and the interactive API docs
(/docs, /redoc) with their scripts served from here rather than a CDN, so that they work offline."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from service.errors import NotFound
from service.inference import forecasting

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
    model = forecasting.live_model(request.app.state.registry)
    if name not in VERSION_FILES or not (model.path / name).is_file():
        raise NotFound(f"version {model.version} has no file {name!r}; it may have {sorted(VERSION_FILES)}")
    return FileResponse(model.path / name, media_type=VERSION_FILES[name], headers={"Cache-Control": "no-cache"})


VENDOR = "/static/vendor"


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - Swagger UI",
        oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_js_url=f"{VENDOR}/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui.css",
        swagger_favicon_url="data:,",
    )


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{VENDOR}/redoc.standalone.js",
        redoc_favicon_url="data:,",
        with_google_fonts=False,
    )
