"""Run this service alone: python -m services.invoice_factory"""

from libs.platform.serve import serve
from services.invoice_factory.bootstrap import build
from services.invoice_factory.entrypoints.http import create_app

if __name__ == "__main__":
    serve(build, create_app)
