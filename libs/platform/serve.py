"""Running one service as its own process (distributed mode)."""

from __future__ import annotations

from typing import Callable

import uvicorn

from libs.platform.runtime import configure_logging


def serve(build: Callable[[], object], create_app: Callable[[object], object]) -> None:
    container = build()
    configure_logging(container.settings.log_level)
    uvicorn.run(create_app(container), host=container.settings.host, port=container.settings.port, log_level="warning")
