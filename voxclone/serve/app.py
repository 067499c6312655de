"""The server: API routes, OpenAPI docs and the web UI on one FastAPI app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from voxclone.config import Settings
from voxclone.serve.api import api_router, install_error_handlers
from voxclone.serve.config import ServeConfig
from voxclone.serve.service import Service

DESCRIPTION = ("Local voice cloning. `POST /v1/audio/speech` takes OpenAI's body (point an OpenAI "
               "client's base_url at `/v1`); the web UI is at `/`.")


def create_app(config: ServeConfig = ServeConfig(), settings: Settings | None = None,
               ui: bool = True, service: Service | None = None) -> FastAPI:
    """The FastAPI app; ``ui`` mounts the Gradio UI at ``/``."""
    service = service or Service(config, settings)
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if service.config.warmup:
            service.warmup.start()
        yield
        service.shutdown()

    app = FastAPI(title="voxclone", description=DESCRIPTION, version="1", lifespan=lifespan)
    app.state.service = service
    install_error_handlers(app, service)
    app.include_router(api_router(service))
    if ui:
        os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
        import gradio as gr

        from voxclone.serve.ui import build_ui

        app = gr.mount_gradio_app(app, build_ui(service), path="/", ssr_mode=False,
                                  allowed_paths=[str(service.output_dir)], footer_links=["api"])
    return app
