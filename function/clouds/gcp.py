"""GCP: Cloud SQL for PostgreSQL (pgvector is available as the `vector` extension) and a Cloud Storage bucket.

Cloud SQL generates no passwords, so the function creates the user's password once (observed first, else
derived from the platform seed) in a Secret the User references. The instance has a private IP only. The
bucket is reached through Cloud Storage's S3-compatible XML API with an HMAC key of a service account the
workspace owns; the key's secret is a connection detail, its access ID is in the key's status.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any

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
from function.resources import Composed, managed, secret, secret_ref, select, team_selector
from function.services import Context

GCS_S3_ENDPOINT = "https://storage.googleapis.com"


FILES_ROLE = "roles/storage.objectUser"

# AWS SDK for JavaScript v3 clients from 3.729.0 on add CRC32 checksums to every upload and ask for them on
# downloads (requestChecksumCalculation/responseChecksumValidation WHEN_SUPPORTED); Cloud Storage's XML API
# does not accept those headers and answers SignatureDoesNotMatch. The SDK reads these two settings from the
# environment; WHEN_REQUIRED restores the older behaviour. LibreChat v0.8.8-rc1 depends on @aws-sdk/client-s3
# ^3.980.0 and already builds its S3 client with requestChecksumCalculation WHEN_REQUIRED
# (packages/api/src/cdn/s3.ts), but not responseChecksumValidation, which the environment still decides. Both
# are set for GCS alone, so the wiring holds whatever a LibreChat release passes; S3 itself and the s3 provider
# keep the SDK's default response validation.
GCS_CHECKSUM_ENV = {
    "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
    "AWS_RESPONSE_CHECKSUM_VALIDATION": "WHEN_REQUIRED",
}


def gcp_label(value: str) -> str:
    """A GCP label value: at most 63 lower-case letters, digits, '-' and '_' (a workspace's name may hold '.')."""
    clean = re.sub(r"[^a-z0-9_-]", "_", value.lower())
    if clean == value and len(value) <= 63:
        return value
    digest = hashlib.sha256(value.encode()).hexdigest()[:8]
    return f"{clean[:54]}-{digest}"


def database(ctx: Context) -> CloudDatabase:
    plan = ctx.plan
    assert plan.rag is not None and plan.spec.database.gcp is not None
    spec, gcp = plan.spec.database, plan.spec.database.gcp
    config = spec.provider_config_ref

    network: dict[str, Any] = {"ipv4Enabled": False, "sslMode": "ENCRYPTED_ONLY"}
    if gcp.private_network:
        network["privateNetwork"] = gcp.private_network
    elif gcp.private_network_selector:
        network["privateNetworkSelector"] = team_selector(plan, gcp.private_network_selector.match_labels)
    settings: dict[str, Any] = {
        "tier": gcp.tier,
        "availabilityType": gcp.availability_type.value,
        "diskSize": spec.storage_gb,
        "diskType": "PD_SSD",
        "diskAutoresize": True,
        "deletionProtectionEnabled": spec.deletion_protection,
        "ipConfiguration": network,
        "backupConfiguration": {"enabled": True, "pointInTimeRecoveryEnabled": True},
        "userLabels": {"aiworkspace-io-workspace": gcp_label(plan.workspace.name)},
    }
    if spec.final_snapshot:
        settings["finalBackupConfig"] = {"enabled": True, "retentionDays": 30}
    instance = managed(
        plan,
        "gcp-database-instance",
        DATABASE_COMPONENT,
        "sql.gcp",
        "DatabaseInstance",
        {
            "region": gcp.region,
            "databaseVersion": f"POSTGRES_{spec.engine_version.value}",
            "deletionProtection": spec.deletion_protection,
            "settings": settings,
        },
        holds_data=True,
        external_name=plan.rag.instance_name,
        connection_secret=plan.rag.connection_secret,
        config=config,
    )
    password = ctx.secrets.get(plan.rag.admin_secret, "password")
    out: list[Composed] = [
        secret(
            plan,
            "gcp-database-admin-secret",
            DATABASE_COMPONENT,
            name=plan.rag.admin_secret,
            values={"password": password},
        ),
        instance,
        managed(
            plan,
            "gcp-database-database",
            DATABASE_COMPONENT,
            "sql.gcp",
            "Database",
            {"instanceSelector": select(instance.key)},
            external_name=spec.database_name,
            config=config,
        ),
        managed(
            plan,
            "gcp-database-user",
            DATABASE_COMPONENT,
            "sql.gcp",
            "User",
            {
                "instanceSelector": select(instance.key),
                "type": "BUILT_IN",
                "passwordSecretRef": secret_ref(plan, plan.rag.admin_secret, "password"),
            },
            external_name=ADMIN_USER,
            connection_secret=f"{plan.rag.connection_secret}-user",
            depends_on=("gcp-database-admin-secret",),
            config=config,
        ),
    ]
    details = ctx.observed.connection(instance.key)
    user = ctx.observed.connection("gcp-database-user")
    waiting = missing("the Cloud SQL instance's connection details", details, ("privateIP",)) or missing(
        "the Cloud SQL user's connection details", user, ("password",)
    )
    if not waiting and not (ctx.observed.ready(instance.key) and ctx.observed.ready("gcp-database-database")):
        waiting = "the Cloud SQL instance and database to become ready"
    connection = None
    if not waiting:
        connection = DatabaseConnection(
            host=details["privateIP"],
            port=POSTGRES_PORT,
            username=ADMIN_USER,
            password=user["password"],
            database=spec.database_name,
        )
    return CloudDatabase(out, instance, connection, waiting)


def bucket(ctx: Context) -> CloudBucket:
    plan = ctx.plan
    assert plan.files is not None and plan.spec.object_storage.gcp is not None
    storage, gcp = plan.spec.object_storage, plan.spec.object_storage.gcp
    config = storage.provider_config_ref
    project = {"project": gcp.project} if gcp.project else {}
    main = managed(
        plan,
        "gcp-files-bucket",
        FILES_COMPONENT,
        "storage.gcp",
        "Bucket",
        {
            "location": gcp.location,
            "uniformBucketLevelAccess": True,
            "publicAccessPrevention": "enforced",
            "versioning": {"enabled": True},
            "forceDestroy": False,
            "labels": {"aiworkspace-io-workspace": gcp_label(plan.workspace.name)},
            **project,
        },
        holds_data=True,
        external_name=plan.files.bucket,
        config=config,
    )
    out = [
        main,
        managed(
            plan,
            "gcp-files-service-account",
            FILES_COMPONENT,
            "cloudplatform.gcp",
            "ServiceAccount",
            {
                # GCP takes at most 100 characters.
                "displayName": f"LibreChat files of {plan.workspace.namespace}/{plan.workspace.name}"[:100],
                "description": f"HMAC access to gs://{plan.files.bucket}",
                **project,
            },
            external_name=plan.files.user,
            config=config,
        ),
        managed(
            plan,
            "gcp-files-hmac-key",
            FILES_COMPONENT,
            "storage.gcp",
            "HMACKey",
            {"serviceAccountEmailSelector": select("gcp-files-service-account"), "state": "ACTIVE", **project},
            connection_secret=plan.files.connection_secret,
            config=config,
        ),
    ]
    # An HMAC key acts as its service account, which has no access to the bucket until it is granted some.
    # roles/storage.objectUser is the narrowest predefined role that lets LibreChat create, read, list and
    # delete objects (and run multipart uploads) without managing the bucket or its IAM policy. The member
    # names the account by email, which only the provider knows (status.atProvider.email): until then the
    # grant waits.
    email = str(ctx.observed.at_provider("gcp-files-service-account").get("email") or "")
    grant = managed(
        plan,
        "gcp-files-iam-member",
        FILES_COMPONENT,
        "storage.gcp",
        "BucketIAMMember",
        {"bucket": plan.files.bucket, "role": FILES_ROLE, "member": f"serviceAccount:{email}"},
        config=config,
        depends_on=(main.key,),
    )
    out.append(grant if email else replace(grant, hold="the service account's email (status.atProvider.email)"))
    details = ctx.observed.connection("gcp-files-hmac-key")
    access_id = str(ctx.observed.at_provider("gcp-files-hmac-key").get("accessId") or "")
    waiting = missing("the HMAC key's connection details", details, ("attribute.secret",))
    if not waiting and not access_id:
        waiting = "the HMAC key's access ID (status.atProvider.accessId)"
    if not waiting and not ctx.observed.ready(main.key):
        waiting = "the bucket to become ready"
    if not waiting and not ctx.observed.ready(grant.key):
        waiting = "the service account's access to the bucket (gcp-files-iam-member) to become ready"
    access = None
    if not waiting:
        access = BucketAccess(
            # The XML API takes any region name; "auto" is the one Google documents for S3 clients.
            {
                "AWS_REGION": "auto",
                "AWS_BUCKET_NAME": plan.files.bucket,
                "AWS_ENDPOINT_URL": GCS_S3_ENDPOINT,
                **GCS_CHECKSUM_ENV,
            },
            {"AWS_ACCESS_KEY_ID": access_id, "AWS_SECRET_ACCESS_KEY": details["attribute.secret"]},
        )
    return CloudBucket(out, main, access, waiting)
