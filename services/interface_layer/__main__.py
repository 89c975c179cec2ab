"""Run the interface layer alone: python -m services.interface_layer"""

import uvicorn

from libs.platform.runtime import configure_logging
from services.interface_layer.bootstrap import build
from services.interface_layer.entrypoints.http import create_app


def main() -> None:
    container = build()
    configure_logging(container.settings.log_level)
    uvicorn.run(create_app(container), host=container.settings.host, port=container.settings.port, log_level="warning")


if __name__ == "__main__":
    main()
