"""The one SQLAlchemy MetaData of this service's tables.

Tables carry no schema name: in PostgreSQL the engine maps them into the
service's own schema (schema_translate_map), in SQLite the service has its own file.
"""

from sqlalchemy import MetaData

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
