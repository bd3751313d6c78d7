"""Where LibreChat keeps files: its volume (local), a bucket composed on AWS, GCP or Azure, or an existing
S3-compatible bucket. The bucket is protected by a Usage so LibreChat is deleted before it."""

from __future__ import annotations

from dataclasses import dataclass

from function.clouds import FILES_COMPONENT, BucketAccess, CloudBucket, aws, azure, gcp
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
