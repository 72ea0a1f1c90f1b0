from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from openbwv.db import Base
from openbwv.domains import installed_domains
from openbwv.migrate import is_model_table

installed_domains()  # registers every domain's tables


def test_migrations_build_exactly_the_schema_the_models_describe(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"include_name": is_model_table}), Base.metadata
        )
    assert differences == []
