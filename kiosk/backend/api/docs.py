"""The interactive API page at /docs, served from the installed swagger-ui-bundle (no CDN)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle  # type: ignore[import-untyped]
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
ASSETS_PATH = "/docs/assets"
SCHEMA_PATH = "/docs/openapi-3.0.json"


def install_api_docs(app: FastAPI) -> None:
    """Swagger UI whose scripts, styles and icon all come from this server.

    A library LAN may be offline, so FastAPI's default page (assets from a CDN) would show
    nothing there. The app must be built with `docs_url=None, redoc_url=None`. The bundle's
    Swagger UI (4.15) reads only OpenAPI 3.0 documents, so the page gets the app's schema
    labelled 3.0.3; /openapi.json itself stays as FastAPI writes it (3.1).
    """
    assets = Path(swagger_ui_bundle.swagger_ui_path)
    app.mount(ASSETS_PATH, StaticFiles(directory=assets), name="api-docs-assets")

    async def swagger_page() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=SCHEMA_PATH,
            title=f"{app.title} - API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        )

    async def schema_for_page() -> JSONResponse:
        return JSONResponse({**app.openapi(), "openapi": "3.0.3"})

    app.add_api_route(DOCS_PATH, swagger_page, include_in_schema=False)
    app.add_api_route(SCHEMA_PATH, schema_for_page, include_in_schema=False)
