"""Where LibreChat keeps files: its volume (local), a bucket composed on AWS, GCP or Azure, or an existing
S3-compatible bucket. The bucket is protected by a Usage so LibreChat is deleted before it."""

from __future__ import annotations

from dataclasses import dataclass

from function.clouds import FILES_COMPONENT, BucketAccess, CloudBucket, aws, azure, gcp
from function.plan import (
    Draft,
    EnvFromSecret,
    Files,
    Part,
    cloud_name,
    files_bucket_name,
    files_url,
    storage_account_name,
)
from function.resources import Composed, release_api_version, usage
from function.services import Context
from function.spec import ObjectStorageProvider

COMPONENT = FILES_COMPONENT
RELEASE_KEY = "librechat-release"
CLOUDS = {ObjectStorageProvider.AWS: aws, ObjectStorageProvider.GCP: gcp, ObjectStorageProvider.AZURE: azure}


@dataclass(frozen=True)
class Storage:
    """What LibreChat needs to use its file storage, or why it must wait."""

    access: BucketAccess | None
    waiting_for: str
    service_account_annotations: dict[str, str]


def plan_part(draft: Draft) -> Part:
    """Where LibreChat's files live (none: its volume): the strategy, the bucket, where the provider writes its
    credentials, and for an existing S3-compatible bucket the team's keys LibreChat gets."""
    storage = draft.spec.object_storage
    if storage.provider == ObjectStorageProvider.LOCAL:
        return Part({"files": None})
    ns, name, key = draft.workspace.namespace, draft.workspace.name, draft.name_key
    azure = storage.provider == ObjectStorageProvider.AZURE
    bucket = storage.s3.bucket if storage.s3 else files_bucket_name(ns, name, storage.provider, key)
    account = storage_account_name(ns, name, key) if azure else ""
    files = Files(
        url=files_url(storage.provider, bucket, account, storage.s3.endpoint if storage.s3 else ""),
        provider=storage.provider,
        strategy="azure_blob" if azure else "s3",
        bucket="files" if azure else bucket,
        account=account,
        connection_secret=draft.name(f"{storage.provider.value}-files-connection"),
        user=cloud_name(ns, name, "files", max_len=30 if storage.provider == ObjectStorageProvider.GCP else 64),
    )
    keys: tuple[EnvFromSecret, ...] = ()
    if storage.s3:
        keys = (
            EnvFromSecret(
                "AWS_ACCESS_KEY_ID", storage.s3.access_key_id_secret_ref, "spec.objectStorage.s3.accessKeyIdSecretRef"
            ),
            EnvFromSecret(
                "AWS_SECRET_ACCESS_KEY",
                storage.s3.secret_access_key_secret_ref,
                "spec.objectStorage.s3.secretAccessKeySecretRef",
            ),
        )
    return Part({"files": files}, env_from=keys)


def cloud(ctx: Context) -> CloudBucket | None:
    files = ctx.plan.files
    if files is None or files.provider not in CLOUDS:
        return None
    bucket: CloudBucket = CLOUDS[files.provider].bucket(ctx)
    return bucket


def storage(ctx: Context) -> Storage | None:
    """None for local files; else the env and credentials LibreChat gets, once the bucket is usable."""
    plan = ctx.plan
    if plan.files is None:
        return None
    existing = plan.spec.object_storage.s3
    if existing is not None:
        env = {"AWS_ENDPOINT_URL": existing.endpoint, "AWS_REGION": existing.region, "AWS_BUCKET_NAME": existing.bucket}
        if existing.force_path_style:
            env["AWS_FORCE_PATH_STYLE"] = "true"
        # The keys are copied from the team's Secrets like every other referenced key (plan.env_from_secrets).
        return Storage(BucketAccess(env, {}), "", {})
    bucket = cloud(ctx)
    assert bucket is not None
    return Storage(bucket.access, bucket.waiting_for, bucket.service_account_annotations)


def compose(ctx: Context) -> list[Composed]:
    bucket = cloud(ctx)
    if bucket is None:
        return []
    protect = usage(
        ctx.plan,
        "files-usage",
        COMPONENT,
        of=bucket.main,
        by=(release_api_version(ctx.plan), "Release", RELEASE_KEY),
    )
    return [*bucket.resources, protect]
