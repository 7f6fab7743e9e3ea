"""Migration operations for what only PostgreSQL has."""

from django.contrib.postgres import operations as postgres_operations
from django.db.migrations.operations import AddIndex, RemoveIndex
from django.db.migrations.operations.base import Operation


class PostgresOnly(Operation):
    """Run `operation` (an AddIndex of a trigram index, say) on PostgreSQL only. The migration state changes
    everywhere, so the models stay in step with their migrations; on SQLite (`make run`) the database is left
    as it is, and a search there reads the table, as it always did."""

    reversible = True

    def __init__(self, operation: Operation):
        self.operation = operation

    def state_forwards(self, app_label, state):
        self.operation.state_forwards(app_label, state)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            self.operation.database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self):
        return f"{self.operation.describe()} (PostgreSQL only)"

    @property
    def migration_name_fragment(self):
        return self.operation.migration_name_fragment


class AddIndexConcurrently(postgres_operations.AddIndexConcurrently):
    """On PostgreSQL, Django's AddIndexConcurrently: CREATE INDEX CONCURRENTLY, so that a large table takes writes
    while its index is built (the migration must be `atomic = False`). Elsewhere (SQLite, `make run`) a plain
    AddIndex."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class RemoveIndexConcurrently(postgres_operations.RemoveIndexConcurrently):
    """On PostgreSQL, DROP INDEX CONCURRENTLY (queries of the table go on meanwhile); elsewhere a plain RemoveIndex."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            RemoveIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)
