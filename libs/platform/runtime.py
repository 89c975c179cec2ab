"""Choosing adapters from settings: the building blocks of every service's composition root."""

from __future__ import annotations

import logging
import sys

from libs.contracts import topics
from libs.platform.blobstore import BlobStore, LocalBlobStore, S3BlobStore
from libs.platform.bus.inprocess import InProcessBus
from libs.platform.bus.port import Bus
from libs.platform.docstore import DocumentStore, EmbeddedDocumentStore, MongoDocumentStore
from libs.platform.settings import ServiceSettings


def make_bus(settings: ServiceSettings, client_id: str, shared: Bus | None = None) -> Bus:
    if shared is not None:
        return shared
    if settings.mode == "embedded" or not settings.kafka_bootstrap:
        return InProcessBus()
    from libs.platform.bus.kafka import KafkaBus

    return KafkaBus(settings.kafka_bootstrap, client_id=client_id, topics=topics.ALL, topic_prefix=settings.kafka_topic_prefix)


def make_docstore(settings: ServiceSettings, shared: DocumentStore | None = None) -> DocumentStore:
    if shared is not None:
        return shared
    if settings.mongo_url:
        return MongoDocumentStore(settings.mongo_url, settings.mongo_database)
    return EmbeddedDocumentStore(settings.data_dir / "documents.sqlite3")


def make_blobstore(settings: ServiceSettings, public_base_url: str = "") -> BlobStore:
    if settings.s3_endpoint:
        store = S3BlobStore(settings.s3_endpoint, settings.s3_access_key or "", settings.s3_secret_key or "", settings.s3_region, settings.s3_bucket)
        store.ensure_bucket()
        return store
    return LocalBlobStore(settings.data_dir / "archive", settings.internal_token, public_base_url)


def configure_logging(level: str = "INFO") -> None:
    """Structured, one JSON object per line on stderr, so log shippers need no parsing rules."""
    import structlog

    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )
    for noisy in ("aiokafka", "kafka", "botocore", "urllib3", "pymongo", "httpx", "httpcore"):  # httpx: a line per forwarded call
        logging.getLogger(noisy).setLevel(logging.WARNING)
