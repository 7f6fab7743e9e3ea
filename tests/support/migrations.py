"""Moving the test database along its migrations, for the tests of a migration's data changes."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(targets=None):
    """Migrate the test database to `targets` ([(app, migration)], the latest of every app when None) and return
    the apps as they were at those migrations."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps
