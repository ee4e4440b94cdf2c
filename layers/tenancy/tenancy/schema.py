"""The schema version this code needs: the newest file of infra/migrations it was written
against. The readiness check refuses to call a stack ready until the database has it, so a
canary whose migrations did not run never takes traffic; a test keeps this equal to the
newest migration in the repository."""

__all__ = ["SCHEMA_VERSION"]

SCHEMA_VERSION = "0020_gate_read_function.sql"
