"""Run this service alone: python -m services.billing_factory"""

from libs.platform.serve import serve
from services.billing_factory.bootstrap import build
from services.billing_factory.entrypoints.http import create_app

if __name__ == "__main__":
    serve(build, create_app)
