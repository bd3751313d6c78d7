"""Azure: Database for PostgreSQL flexible server (pgvector allow-listed) and Blob Storage for files.

The flexible server generates its admin password (autoGeneratePassword into a Secret), sits in a delegated
subnet with public access off, and allow-lists the `vector` extension through azure.extensions. Blob
Storage is not S3-compatible: LibreChat uses its azure_blob strategy with the account's connection string.
"""

from __future__ import annotations

from function.clouds import (
    ADMIN_USER,
    DATABASE_COMPONENT,
    FILES_COMPONENT,
    POSTGRES_PORT,
    BucketAccess,
    CloudBucket,
    CloudDatabase,
    DatabaseConnection,
    missing,
)
from function.resources import managed, secret_ref, select
from function.services import Context

# Azure refuses a tag name holding <, >, %, &, \, ? or / ("Tag names can't contain these characters": Azure Resource
# Manager, "Use tags to organize your Azure resources and management hierarchy", Limitations), so not the AWS tags'
# aiworkspace.io/workspace but the GCP labels' key.
WORKSPACE_TAG = "aiworkspace-io-workspace"

# Storage sizes a flexible server accepts, in MB.
STORAGE_MB = (32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4193280, 4194304, 8388608, 16777216)


def storage_mb(gib: int) -> int:
    """The smallest size a flexible server accepts that holds `gib` GiB."""
    return next((mb for mb in STORAGE_MB if mb >= gib * 1024), STORAGE_MB[-1])


def database(ctx: Context) -> CloudDatabase:
    plan = ctx.plan
    assert plan.rag is not None and plan.spec.database.azure is not None
    spec, azure = plan.spec.database, plan.spec.database.azure
    config = spec.provider_config_ref
    server = managed(
        plan,
        "azure-database-server",
        DATABASE_COMPONENT,
        "dbforpostgresql.azure",
        "FlexibleServer",
        {
            "location": azure.location,
            "resourceGroupName": azure.resource_group_name,
            "version": spec.engine_version.value,
            "skuName": azure.sku_name,
            "storageMb": storage_mb(spec.storage_gb),
            "autoGrowEnabled": True,
            "administratorLogin": ADMIN_USER,
            "autoGeneratePassword": True,
            "administratorPasswordSecretRef": secret_ref(plan, plan.rag.admin_secret, "password"),
            "authentication": {"passwordAuthEnabled": True},
            "delegatedSubnetId": azure.delegated_subnet_id,
            "privateDnsZoneId": azure.private_dns_zone_id,
            "publicNetworkAccessEnabled": False,
            "backupRetentionDays": azure.backup_retention_days,
            "tags": {WORKSPACE_TAG: plan.workspace.name},
        },
        holds_data=True,
        external_name=plan.rag.instance_name,
        connection_secret=plan.rag.connection_secret,
        config=config,
    )
    out = [
        server,
        managed(
            plan,
            "azure-database-extensions",
            DATABASE_COMPONENT,
            "dbforpostgresql.azure",
            "FlexibleServerConfiguration",
            # pgvector must be allow-listed before the RAG API can CREATE EXTENSION vector.
            {"name": "azure.extensions", "value": "VECTOR", "serverIdSelector": select(server.key)},
            config=config,
        ),
        managed(
            plan,
            "azure-database-database",
            DATABASE_COMPONENT,
            "dbforpostgresql.azure",
            "FlexibleServerDatabase",
            {"serverIdSelector": select(server.key), "charset": "UTF8", "collation": "en_US.utf8"},
            external_name=spec.database_name,
            config=config,
        ),
    ]
    details = ctx.observed.connection(server.key)
    waiting = missing("the flexible server's connection details", details, ("endpoint", "password"))
    if not waiting and not all(
        ctx.observed.ready(k) for k in (server.key, "azure-database-extensions", "azure-database-database")
    ):
        waiting = "the flexible server, its database and the vector extension setting to become ready"
    connection = None
    if not waiting:
        connection = DatabaseConnection(
            host=details["endpoint"],
            port=details.get("port") or POSTGRES_PORT,
            # The published username is the legacy <login>@<server> form; flexible servers take the login.
            username=ADMIN_USER,
            password=details["password"],
            database=spec.database_name,
        )
    return CloudDatabase(out, server, connection, waiting)


def bucket(ctx: Context) -> CloudBucket:
    plan = ctx.plan
    assert plan.files is not None and plan.spec.object_storage.azure is not None
    storage, azure = plan.spec.object_storage, plan.spec.object_storage.azure
    config = storage.provider_config_ref
    account = managed(
        plan,
        "azure-files-account",
        FILES_COMPONENT,
        "storage.azure",
        "Account",
        {
            "location": azure.location,
            "resourceGroupName": azure.resource_group_name,
            "accountKind": "StorageV2",
            "accountTier": "Standard",
            "accountReplicationType": azure.replication.value,
            "minTlsVersion": "TLS1_2",
            "httpsTrafficOnlyEnabled": True,
            "allowNestedItemsToBePublic": False,
            "sharedAccessKeyEnabled": True,  # the connection string LibreChat uses carries the account key
            "blobProperties": {
                "versioningEnabled": True,
                "deleteRetentionPolicy": {"days": 30},
                "containerDeleteRetentionPolicy": {"days": 30},
            },
            "tags": {WORKSPACE_TAG: plan.workspace.name},
        },
        holds_data=True,
        external_name=plan.files.account,
        connection_secret=plan.files.connection_secret,
        config=config,
    )
    out = [
        account,
        managed(
            plan,
            "azure-files-container",
            FILES_COMPONENT,
            "storage.azure",
            "Container",
            {"storageAccountIdSelector": select(account.key), "containerAccessType": "private"},
            holds_data=True,
            external_name=plan.files.bucket,
            config=config,
        ),
    ]
    details = ctx.observed.connection(account.key)
    waiting = missing("the storage account's connection details", details, ("attribute.primary_connection_string",))
    if not waiting and not (ctx.observed.ready(account.key) and ctx.observed.ready("azure-files-container")):
        waiting = "the storage account and container to become ready"
    access = None
    if not waiting:
        access = BucketAccess(
            {"AZURE_CONTAINER_NAME": plan.files.bucket, "AZURE_STORAGE_PUBLIC_ACCESS": "false"},
            {"AZURE_STORAGE_CONNECTION_STRING": details["attribute.primary_connection_string"]},
        )
    return CloudBucket(out, account, access, waiting)
