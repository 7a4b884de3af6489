#!/usr/bin/env python3
"""The seed architecture's ingest, as a baseline for `ingest-bench`.

gzip.open + json.load of the whole log file, then a loop over Records that
keeps those whose eventName is a creation event of the catalog
(crates/core/src/catalog/table.rs). Prints `count=N`.

Usage: baseline_seed.py FILE.json.gz [NAMES_FILE]
NAMES_FILE, if given, holds one creation event name a line and replaces the
built-in list.
"""
import gzip
import json
import sys

# eventName of every row of crates/core/src/catalog/table.rs (ingest-bench
# only needs the shape of the work: one set lookup per record).
CREATION_EVENTS = {
    "AllocateAddress", "CreateAutoScalingGroup", "CreateBucket", "CreateCacheCluster",
    "CreateCluster", "CreateDBCluster", "CreateDBInstance", "CreateDistribution",
    "CreateDomain", "CreateElasticsearchDomain", "CreateFileSystem", "CreateFunction20150331",
    "CreateInternetGateway", "CreateKey", "CreateLaunchTemplate", "CreateLoadBalancer",
    "CreateLogGroup", "CreateNatGateway", "CreateNetworkAcl", "CreateNetworkInterface",
    "CreateQueue", "CreateReplicationGroup", "CreateRepository", "CreateRestApi", "CreateRole",
    "CreateRouteTable", "CreateSecret", "CreateSecurityGroup", "CreateSnapshot", "CreateStack",
    "CreateStateMachine", "CreateSubnet", "CreateTable", "CreateTargetGroup", "CreateTopic",
    "CreateTransitGateway", "CreateUser", "CreateVolume", "CreateVpc", "CreateVpcEndpoint",
    "ImportKeyPair", "CreateKeyPair", "RegisterImage", "CopyImage", "CreateImage", "RunInstances",
    "CreateApi", "CreateUserPool", "CreateStream", "CreateDeliveryStream", "CreateAlarm",
    "PutMetricAlarm", "CreateRule", "CreateEventBus", "CreateDBSubnetGroup", "CreateNodegroup",
    "CreateService", "CreateTaskDefinition", "RegisterTaskDefinition", "CreateWorkGroup",
    "CreateGraphqlApi", "CreateHostedZone", "CreateCertificate", "RequestCertificate",
}


def main() -> None:
    path = sys.argv[1]
    names = CREATION_EVENTS
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            names = {line.strip() for line in f if line.strip()}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    kept = []
    for record in doc["Records"]:
        if record.get("eventName") in names:
            kept.append(record)
    print(f"count={len(kept)}")


if __name__ == "__main__":
    main()
