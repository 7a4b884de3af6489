#!/usr/bin/env python3
"""Removes a tagwarden stack (deploy/template.yaml) and everything it holds,
for any environment but prod: prod's buckets and tables are retained when
its stack is deleted (DeletionPolicy), as evidence must be.

CloudFormation cannot delete a bucket that holds objects, and the trail
keeps writing until it is gone; so this stops the trail's logging, shows
what it will delete, empties the stack's versioned buckets (every version
and delete marker), then deletes the stack and waits for it.

Usage: scripts/remove-stack.py SUFFIX [--region REGION] [--yes]
Needs boto3 and the AWS credentials of the stack's account (the standard
chain; AWS_ENDPOINT_URL is honoured, as the test against moto uses).
"""
import argparse
import sys

import boto3
import botocore.exceptions


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("suffix")
    ap.add_argument("--region")
    ap.add_argument("--yes", action="store_true", help="do not ask")
    a = ap.parse_args()
    if a.suffix == "prod":
        sys.exit("prod keeps its buckets and tables by design: delete its stack with "
                 "CloudFormation, and its data stays (retained).")
    session = boto3.Session(region_name=a.region)
    cf = session.client("cloudformation")
    stack = f"tagwarden-{a.suffix}"
    try:
        resources = [r for page in cf.get_paginator("list_stack_resources").paginate(StackName=stack)
                     for r in page["StackResourceSummaries"]]
    except botocore.exceptions.ClientError as e:
        sys.exit(f"{stack}: {e.response['Error']['Message']}")
    of_type = lambda t: [r["PhysicalResourceId"] for r in resources if r["ResourceType"] == t]
    buckets, tables = of_type("AWS::S3::Bucket"), of_type("AWS::DynamoDB::Table")

    print(f"This deletes stack {stack} and all it holds, for good:")
    for b in buckets:
        print(f"  bucket {b} (every object version)")
    for t in tables:
        print(f"  table  {t}")
    if not a.yes and input("Type the suffix to go on: ").strip() != a.suffix:
        sys.exit("Nothing changed.")

    # The trail writes until the stack deletes it; a log file landing in an
    # emptied bucket would make the bucket's deletion fail.
    for trail in of_type("AWS::CloudTrail::Trail"):
        try:
            session.client("cloudtrail").stop_logging(Name=trail)
        except botocore.exceptions.ClientError as e:
            print(f"  trail {trail}: {e.response['Error']['Code']} (deleted with the stack)")
    s3 = session.client("s3")
    # Emptying a bucket writes access logs into the access-log bucket:
    # logging goes off first.
    for b in buckets:
        s3.put_bucket_logging(Bucket=b, BucketLoggingStatus={})

    def empty(b):
        emptied = 0
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=b):
            gone = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            # A page holds at most 1,000 entries: DeleteObjects' maximum.
            if gone:
                s3.delete_objects(Bucket=b, Delete={"Objects": gone, "Quiet": True})
                emptied += len(gone)
        return emptied

    for b in buckets:
        print(f"  emptied {b}: {empty(b)} object versions")
    # The stack's managed policies (the generated catalog rows' tag grants)
    # are detached from its roles first. CloudFormation deletes them before
    # the roles they name, but a deletion that reaches a role first (moto
    # does) fails on "must detach all policies first".
    iam = session.client("iam")
    for arn in of_type("AWS::IAM::ManagedPolicy"):
        try:
            for page in iam.get_paginator("list_entities_for_policy").paginate(
                    PolicyArn=arn, EntityFilter="Role"):
                for role in page["PolicyRoles"]:
                    iam.detach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException:
            pass
    # Log deliveries already under way can still land: a bucket that was
    # not empty after all is emptied again, and the deletion tried again.
    for _ in range(3):
        cf.delete_stack(StackName=stack)
        try:
            cf.get_waiter("stack_delete_complete").wait(
                StackName=stack, WaiterConfig={"Delay": 5, "MaxAttempts": 180})
            print(f"Deleted {stack}.")
            return
        except botocore.exceptions.WaiterError as e:
            print(f"  {stack}: {e}; emptying the buckets again")
            for b in buckets:
                try:
                    empty(b)
                except botocore.exceptions.ClientError:
                    pass  # already deleted
    sys.exit(f"{stack} could not be deleted: see its events in CloudFormation")


if __name__ == "__main__":
    main()
