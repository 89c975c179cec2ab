"""Run this service alone: python -m services.interface_layer"""

from libs.platform.serve import serve
from services.interface_layer.bootstrap import build
from services.interface_layer.entrypoints.http import create_app

if __name__ == "__main__":
    serve(build, create_app)
