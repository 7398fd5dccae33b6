"""The incident store: a database read model of incidents, their versions, decisions and notifications.

Adapter package (it does I/O: SQLAlchemy over SQLite or PostgreSQL). `models` and `protocol` define what
the REST API and the CLI code against (`IncidentStore`); `sql` is the one implementation; `schema` and
`migrations/` (Alembic, run in code at start) define the tables; `config` is the pure `store:` section.
This file imports nothing, so loading the configuration never pulls in SQLAlchemy.
"""
