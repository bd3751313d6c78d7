"""Managed databases and buckets on AWS, GCP and Azure, one module per cloud.

Each cloud turns the plan into its managed resources and reads the provider's connection details back into
one contract: a DatabaseConnection (host, port, username, password, database) for the RAG API and a
BucketAccess (env and credentials) for LibreChat. Until the provider has published them the contract is
None, and whatever needs them waits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from function.resources import Composed

DATABASE_COMPONENT = "database"
FILES_COMPONENT = "files"
ADMIN_USER = "ragadmin"
POSTGRES_PORT = "5432"


@dataclass(frozen=True)
class DatabaseConnection:
    host: str
    port: str
    username: str
    password: str
    database: str

    def values(self) -> dict[str, str]:
        return {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "database": self.database,
        }


@dataclass(frozen=True)
class CloudDatabase:
    resources: list[Composed]
    main: Composed  # the resource holding the data
    connection: DatabaseConnection | None  # None until published
    waiting_for: str  # what is missing while connection is None


@dataclass(frozen=True)
class BucketAccess:
    env: dict[str, str]  # non-secret env for LibreChat (region, bucket, endpoint)
    credentials: dict[str, str]  # env for LibreChat's Secret; empty when a role grants access


@dataclass(frozen=True)
class CloudBucket:
    resources: list[Composed]
    main: Composed
    access: BucketAccess | None
    waiting_for: str
    service_account_annotations: dict[str, str] = field(default_factory=dict)


def missing(what: str, values: dict[str, str], keys: tuple[str, ...]) -> str:
    """'' when every key has a value, else a message naming what is still missing."""
    absent = [k for k in keys if not values.get(k)]
    return f"{what} ({', '.join(absent)})" if absent else ""
