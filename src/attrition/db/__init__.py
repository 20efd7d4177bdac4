"""Database layer: SQLAlchemy 2 models, a pooled engine, Alembic migrations."""
