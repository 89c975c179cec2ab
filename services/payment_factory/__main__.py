"""Run this service alone: python -m services.payment_factory"""

from libs.platform.serve import serve
from services.payment_factory.bootstrap import build
from services.payment_factory.entrypoints.http import create_app

if __name__ == "__main__":
    serve(build, create_app)
