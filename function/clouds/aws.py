"""AWS: RDS for PostgreSQL (pgvector is built in from 15.2 and 16/17) and an S3 bucket for LibreChat's files.

RDS generates the master password itself (autoGeneratePassword into a Secret) and publishes address, port,
username and password as connection details. The bucket blocks public access, enforces bucket-owner
ownership, encrypts with SSE-S3 and keeps versions; LibreChat reaches it with an IAM user's access key
scoped to this bucket, or through a role the spec names (IRSA / EKS Pod Identity).
"""

from __future__ import annotations

import json
import re
from typing import Any

from function.clouds import (
    ADMIN_USER,
    DATABASE_COMPONENT,
    FILES_COMPONENT,
    BucketAccess,
    CloudBucket,
    CloudDatabase,
    DatabaseConnection,
    missing,
)
from function.resources import EXTERNAL_NAME_ANNOTATION, Composed, managed, secret_ref, select, team_selector
from function.services import Context

SUBNET_GROUP = "aws-database-subnet-group"


def _tags(ctx: Context) -> dict[str, str]:
    ws = ctx.plan.workspace
    return {"aiworkspace.io/workspace": ws.name, "aiworkspace.io/namespace": ws.namespace}


# A DB subnet group's name: "no more than 255 letters, numbers, periods, underscores, spaces, or hyphens", not
# "default", and its "first character must be a letter" (RDS API Reference, CreateDBSubnetGroup, DBSubnetGroupName).
SUBNET_GROUP_NAME = re.compile(r"^(?!default$)[a-z][-a-z0-9._ ]{0,254}$")
# EC2 takes a security group description of "up to 255 characters" (API Reference, CreateSecurityGroup,
# GroupDescription) and cannot update it (the CRD's description field: "there is no Update API").
SECURITY_GROUP_DESCRIPTION_LIMIT = 255


def _subnet_group_name(ctx: Context) -> str:
    """The DB subnet group's name: the RDS instance's identifier (valid for either), or the name a subnet group
    composed before names were set here already has. The provider named that one after its managed resource
    (managed.NewNameAsExternalName in internal/controller/namespaced/rds/subnetgroup/zz_controller.go at v2.6.0),
    whose name Crossplane derives from the XR's (internal/names/names.go ChildName at v2.3.4): it is kept while it
    is valid, which a digit-led XR name never gave, so an existing group is never replaced under its instance. No
    other observed name is taken over."""
    assert ctx.plan.rag is not None
    metadata = ctx.observed.metadata(SUBNET_GROUP)
    existing = (metadata.get("annotations") or {}).get(EXTERNAL_NAME_ANNOTATION, "")
    if existing and existing == metadata.get("name") and SUBNET_GROUP_NAME.fullmatch(existing):
        return str(existing)
    return ctx.plan.rag.instance_name


def database(ctx: Context) -> CloudDatabase:
    plan = ctx.plan
    assert plan.rag is not None and plan.spec.database.aws is not None
    spec, aws = plan.spec.database, plan.spec.database.aws
    config = spec.provider_config_ref
    out: list[Composed] = []

    network: dict[str, Any] = {}
    if aws.subnet_group_name:
        network["dbSubnetGroupName"] = aws.subnet_group_name
    else:
        subnets: dict[str, Any] = {"subnetIds": list(aws.subnet_ids)} if aws.subnet_ids else {}
        if aws.subnet_selector:
            subnets = {"subnetIdSelector": team_selector(plan, aws.subnet_selector.match_labels)}
        out.append(
            managed(
                plan,
                SUBNET_GROUP,
                DATABASE_COMPONENT,
                "rds.aws",
                "SubnetGroup",
                {"region": aws.region, "description": f"RAG database of {plan.workspace.name}", **subnets},
                external_name=_subnet_group_name(ctx),
                config=config,
            )
        )
        network["dbSubnetGroupNameSelector"] = select(SUBNET_GROUP)
    if aws.security_group_ids:
        network["vpcSecurityGroupIds"] = list(aws.security_group_ids)
    else:
        vpc: dict[str, Any] = {"vpcId": aws.vpc_id} if aws.vpc_id else {}
        if aws.vpc_selector:
            vpc = {"vpcIdSelector": team_selector(plan, aws.vpc_selector.match_labels)}
        out.append(
            managed(
                plan,
                "aws-database-security-group",
                DATABASE_COMPONENT,
                "ec2.aws",
                "SecurityGroup",
                {
                    "region": aws.region,
                    "description": f"Postgres of the RAG API of {plan.workspace.namespace}/{plan.workspace.name}"[
                        :SECURITY_GROUP_DESCRIPTION_LIMIT
                    ],
                    "tags": _tags(ctx),
                    **vpc,
                },
                config=config,
            )
        )
        for index, cidr in enumerate(aws.allowed_cidrs):
            out.append(
                managed(
                    plan,
                    f"aws-database-ingress-{index}",
                    DATABASE_COMPONENT,
                    "ec2.aws",
                    "SecurityGroupIngressRule",
                    {
                        "region": aws.region,
                        "description": "Postgres from the workspace's cluster",
                        "ipProtocol": "tcp",
                        "fromPort": 5432,
                        "toPort": 5432,
                        "cidrIpv4": cidr,
                        "securityGroupIdSelector": select("aws-database-security-group"),
                    },
                    config=config,
                )
            )
        network["vpcSecurityGroupIdSelector"] = select("aws-database-security-group")

    protection: dict[str, Any] = {"deletionProtection": spec.deletion_protection}
    if spec.final_snapshot:
        protection |= {"skipFinalSnapshot": False, "finalSnapshotIdentifier": f"{plan.rag.instance_name}-final"}
    else:
        protection["skipFinalSnapshot"] = True
    instance = managed(
        plan,
        "aws-database-instance",
        DATABASE_COMPONENT,
        "rds.aws",
        "Instance",
        {
            "region": aws.region,
            "identifier": plan.rag.instance_name,
            "engine": "postgres",
            "engineVersion": spec.engine_version.value,
            "autoMinorVersionUpgrade": True,
            "instanceClass": aws.instance_class,
            "allocatedStorage": spec.storage_gb,
            "storageType": "gp3",
            "storageEncrypted": True,
            "publiclyAccessible": False,
            "multiAz": aws.multi_az,
            "backupRetentionPeriod": aws.backup_retention_days,
            "copyTagsToSnapshot": True,
            "dbName": spec.database_name,
            "username": ADMIN_USER,
            "autoGeneratePassword": True,
            "passwordSecretRef": secret_ref(plan, plan.rag.admin_secret, "password"),
            "tags": _tags(ctx),
            **network,
            **protection,
        },
        holds_data=True,
        connection_secret=plan.rag.connection_secret,
        config=config,
    )
    out.append(instance)

    details = ctx.observed.connection(instance.key)
    waiting = missing("the RDS instance's connection details", details, ("address", "port", "username", "password"))
    if not waiting and not ctx.observed.ready(instance.key):
        waiting = "the RDS instance to become ready"
    connection = None
    if not waiting:
        connection = DatabaseConnection(
            host=details["address"],
            port=details["port"],
            username=details["username"],
            password=details["password"],
            database=spec.database_name,
        )
    return CloudDatabase(out, instance, connection, waiting)


def _bucket_policy(bucket: str) -> str:
    """Least privilege: list this bucket, read, write and delete its objects; nothing else."""
    arn = f"arn:aws:s3:::{bucket}"
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "ListBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn]},
                {
                    "Sid": "ObjectAccess",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                    "Resource": [f"{arn}/*"],
                },
            ],
        },
        sort_keys=True,
        separators=(",", ":"),
    )


def bucket(ctx: Context) -> CloudBucket:
    plan = ctx.plan
    assert plan.files is not None and plan.spec.object_storage.aws is not None
    storage, aws = plan.spec.object_storage, plan.spec.object_storage.aws
    config = storage.provider_config_ref
    name = plan.files.bucket
    region = aws.region
    assert region is not None  # the team's, or the placement's (spec rules, placements.place)
    on_bucket = {"region": region, "bucketSelector": select("aws-files-bucket")}
    main = managed(
        plan,
        "aws-files-bucket",
        FILES_COMPONENT,
        "s3.aws",
        "Bucket",
        {"region": region, "tags": _tags(ctx)},
        holds_data=True,
        external_name=name,
        config=config,
    )
    out = [
        main,
        managed(
            plan,
            "aws-files-public-access-block",
            FILES_COMPONENT,
            "s3.aws",
            "BucketPublicAccessBlock",
            {
                **on_bucket,
                "blockPublicAcls": True,
                "blockPublicPolicy": True,
                "ignorePublicAcls": True,
                "restrictPublicBuckets": True,
            },
            config=config,
        ),
        managed(
            plan,
            "aws-files-ownership-controls",
            FILES_COMPONENT,
            "s3.aws",
            "BucketOwnershipControls",
            {**on_bucket, "rule": {"objectOwnership": "BucketOwnerEnforced"}},
            config=config,
        ),
        managed(
            plan,
            "aws-files-encryption",
            FILES_COMPONENT,
            "s3.aws",
            "BucketServerSideEncryptionConfiguration",
            {
                **on_bucket,
                "rule": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}, "bucketKeyEnabled": True}],
            },
            config=config,
        ),
        managed(
            plan,
            "aws-files-versioning",
            FILES_COMPONENT,
            "s3.aws",
            "BucketVersioning",
            {**on_bucket, "versioningConfiguration": {"status": "Enabled"}},
            config=config,
        ),
        managed(
            plan,
            "aws-files-policy",
            FILES_COMPONENT,
            "iam.aws",
            "Policy",
            {
                "description": f"LibreChat files of {plan.workspace.namespace}/{plan.workspace.name}",
                "policy": _bucket_policy(name),
            },
            config=config,
        ),
    ]
    env = {"AWS_REGION": region, "AWS_BUCKET_NAME": name}
    if aws.role_arn:
        role = aws.role_arn.rsplit("/", 1)[-1]
        out.append(
            managed(
                plan,
                "aws-files-role-policy",
                FILES_COMPONENT,
                "iam.aws",
                "RolePolicyAttachment",
                {"role": role, "policyArnSelector": select("aws-files-policy")},
                config=config,
            )
        )
        annotations = {"eks.amazonaws.com/role-arn": aws.role_arn} | dict(aws.service_account_annotations)
        ready = ctx.observed.ready(main.key)
        access = BucketAccess(env, {}) if ready else None
        return CloudBucket(out, main, access, "" if ready else "the S3 bucket to become ready", annotations)

    out += [
        managed(
            plan,
            "aws-files-user",
            FILES_COMPONENT,
            "iam.aws",
            "User",
            {"path": "/aiworkspace/", "tags": _tags(ctx)},
            external_name=plan.files.user,
            config=config,
        ),
        managed(
            plan,
            "aws-files-user-policy",
            FILES_COMPONENT,
            "iam.aws",
            "UserPolicyAttachment",
            {"userSelector": select("aws-files-user"), "policyArnSelector": select("aws-files-policy")},
            config=config,
        ),
        managed(
            plan,
            "aws-files-access-key",
            FILES_COMPONENT,
            "iam.aws",
            "AccessKey",
            {"userSelector": select("aws-files-user"), "status": "Active"},
            connection_secret=plan.files.connection_secret,
            config=config,
        ),
    ]
    details = ctx.observed.connection("aws-files-access-key")
    waiting = missing("the access key's connection details", details, ("username", "password"))
    if not waiting and not ctx.observed.ready(main.key):
        waiting = "the S3 bucket to become ready"
    access = None
    if not waiting:
        access = BucketAccess(
            env, {"AWS_ACCESS_KEY_ID": details["username"], "AWS_SECRET_ACCESS_KEY": details["password"]}
        )
    return CloudBucket(out, main, access, waiting, dict(aws.service_account_annotations))
