#!/usr/bin/env python3
"""Builds a small multi-account, multi-region estate in a moto server and
writes the CloudTrail log that AWS would have written for it, from the ids
moto returned. Prints a manifest (JSON) of what exists, which tags each
resource carried before tagwarden ran, and which records name resources
that do not exist.

`world.py tags MANIFEST` prints every resource's tags as its own service
reports them.

Reaches moto through AWS_ENDPOINT_URL; other accounts through
sts:AssumeRole (moto puts each account's state apart).
"""
import argparse, gzip, io, json, os, uuid, zipfile
from pathlib import Path
import boto3

TIME = "2026-11-20T10:00:00Z"
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
OWN_ACCOUNT = "123456789012"
MEMBER_ACCOUNT = "222222222222"


def session(account):
    if account == OWN_ACCOUNT:
        return boto3.Session(region_name="us-east-1")
    creds = boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/TagwardenRole", RoleSessionName="world"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def record(account, region, source, name, request, response):
    return {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLE:alice",
            "arn": f"arn:aws:sts::{account}:assumed-role/Deployer/alice",
            "accountId": account,
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLE",
                    "arn": f"arn:aws:iam::{account}:role/Deployer",
                    "accountId": account,
                    "userName": "Deployer",
                },
                "attributes": {"creationDate": TIME, "mfaAuthenticated": "false"},
            },
        },
        "eventTime": TIME,
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }


def ec2_tag_spec(kind, tags):
    return {"items": [{"resourceType": kind, "tags": [{"key": k, "value": v} for k, v in tags.items()]}]}


class World:
    def __init__(self, prefix):
        self.prefix = prefix
        self.resources = []
        self.unknown = []
        self.unsupported = []
        self.records = {}

    def add(self, account, region, rtype, arn, native, preset=None, added=None):
        self.resources.append(
            {"arn": arn, "type": rtype, "account": account, "region": region, "id": native,
             "preset": preset or {}, "added": added or {}}
        )

    def log(self, account, region, rec):
        self.records.setdefault((account, region), []).append(rec)

    def build(self, account, region, global_too):
        s = session(account)
        p = self.prefix
        ec2 = s.client("ec2", region_name=region, endpoint_url=ENDPOINT)
        team = {"Team": "alpha"}

        run = ec2.run_instances(
            ImageId="ami-12345678", MinCount=2, MaxCount=2, InstanceType="t3.micro",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Team", "Value": "alpha"}]}],
        )
        ids = [i["InstanceId"] for i in run["Instances"]]
        # The response names each instance's network interfaces; its root
        # volume attaches later and is read by tagwarden.
        self.log(account, region, record(account, region, "ec2.amazonaws.com", "RunInstances",
            {"instancesSet": {"items": [{"imageId": "ami-12345678", "minCount": 2, "maxCount": 2}]},
             "instanceType": "t3.micro", "tagSpecificationSet": ec2_tag_spec("instance", team)},
            {"instancesSet": {"items": [
                {"instanceId": i["InstanceId"], "networkInterfaceSet": {"items": [
                    {"networkInterfaceId": n["NetworkInterfaceId"]} for n in i["NetworkInterfaces"]]}}
                for i in run["Instances"]]}}))
        for i in run["Instances"]:
            for n in i["NetworkInterfaces"]:
                eni = n["NetworkInterfaceId"]
                self.add(account, region, "ec2:network-interface",
                         f"arn:aws:ec2:{region}:{account}:network-interface/{eni}", eni)
        attached = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": ids}])
        assert len(attached["Volumes"]) == len(ids), attached
        for v in attached["Volumes"]:
            vid = v["VolumeId"]
            self.add(account, region, "ec2:volume", f"arn:aws:ec2:{region}:{account}:volume/{vid}", vid)
        # A tag someone added after creation, under a key tagwarden writes.
        ec2.create_tags(Resources=[ids[1]], Tags=[{"Key": "CreatedBy", "Value": "someone-else"}])
        for n, i in enumerate(ids):
            self.add(account, region, "ec2:instance", f"arn:aws:ec2:{region}:{account}:instance/{i}", i,
                     preset=team, added={"CreatedBy": "someone-else"} if n == 1 else None)

        vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=8)["VolumeId"]
        self.log(account, region, record(account, region, "ec2.amazonaws.com", "CreateVolume",
            {"size": 8, "zone": f"{region}a"}, {"volumeId": vol, "size": "8"}))
        self.add(account, region, "ec2:volume", f"arn:aws:ec2:{region}:{account}:volume/{vol}", vol)

        snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
        self.log(account, region, record(account, region, "ec2.amazonaws.com", "CreateSnapshot",
            {"volumeId": vol}, {"snapshotId": snap, "volumeId": vol}))
        self.add(account, region, "ec2:snapshot", f"arn:aws:ec2:{region}::snapshot/{snap}", snap)

        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        self.log(account, region, record(account, region, "ec2.amazonaws.com", "CreateVpc",
            {"cidrBlock": "10.20.0.0/16"}, {"vpc": {"vpcId": vpc, "cidrBlock": "10.20.0.0/16"}}))
        self.add(account, region, "ec2:vpc", f"arn:aws:ec2:{region}:{account}:vpc/{vpc}", vpc)

        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        self.log(account, region, record(account, region, "ec2.amazonaws.com", "CreateSubnet",
            {"vpcId": vpc, "cidrBlock": "10.20.1.0/24"}, {"subnet": {"subnetId": subnet, "vpcId": vpc}}))
        self.add(account, region, "ec2:subnet", f"arn:aws:ec2:{region}:{account}:subnet/{subnet}", subnet)

        sg = ec2.create_security_group(GroupName=f"{p}-web", Description="web", VpcId=vpc)["GroupId"]
        self.log(account, region, record(account, region, "ec2.amazonaws.com", "CreateSecurityGroup",
            {"groupName": f"{p}-web", "groupDescription": "web", "vpcId": vpc},
            {"_return": True, "groupId": sg}))
        self.add(account, region, "ec2:security-group", f"arn:aws:ec2:{region}:{account}:security-group/{sg}", sg)

        self.more_ec2(account, region, ec2, vpc, subnet, ids[0])

        s3 = s.client("s3", region_name=region, endpoint_url=ENDPOINT)
        bucket = f"{p}-{account}-{region}"
        kwargs = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **kwargs)
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "Owner", "Value": "data-team"}]})
        self.log(account, region, record(account, region, "s3.amazonaws.com", "CreateBucket",
            {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com"}, None))
        self.add(account, region, "s3:bucket", f"arn:aws:s3:::{bucket}", bucket, added={"Owner": "data-team"})

        rds = s.client("rds", region_name=region, endpoint_url=ENDPOINT)
        db = rds.create_db_instance(
            DBInstanceIdentifier=f"{p}-db", Engine="postgres", DBInstanceClass="db.t3.micro",
            AllocatedStorage=20, MasterUsername="admin1", MasterUserPassword="password-123",
            Tags=[{"Key": "Team", "Value": "alpha"}],
        )["DBInstance"]["DBInstanceArn"]
        self.log(account, region, record(account, region, "rds.amazonaws.com", "CreateDBInstance",
            {"dBInstanceIdentifier": f"{p}-db", "engine": "postgres", "tags": [{"key": "Team", "value": "alpha"}]},
            {"dBInstanceArn": db, "dBInstanceIdentifier": f"{p}-db"}))
        self.add(account, region, "rds:db", db, f"{p}-db", preset=team)

        snap_arn = rds.create_db_snapshot(DBInstanceIdentifier=f"{p}-db", DBSnapshotIdentifier=f"{p}-db-snap")["DBSnapshot"]["DBSnapshotArn"]
        self.log(account, region, record(account, region, "rds.amazonaws.com", "CreateDBSnapshot",
            {"dBInstanceIdentifier": f"{p}-db", "dBSnapshotIdentifier": f"{p}-db-snap"}, {"dBSnapshotArn": snap_arn}))
        self.add(account, region, "rds:snapshot", snap_arn, f"{p}-db-snap")
        cluster = rds.create_db_cluster(DBClusterIdentifier=f"{p}-aurora", Engine="aurora-postgresql",
                                        MasterUsername="admin1", MasterUserPassword="password-123")["DBCluster"]["DBClusterArn"]
        self.log(account, region, record(account, region, "rds.amazonaws.com", "CreateDBCluster",
            {"dBClusterIdentifier": f"{p}-aurora", "engine": "aurora-postgresql"}, {"dBClusterArn": cluster}))
        self.add(account, region, "rds:cluster", cluster, f"{p}-aurora")
        csnap = rds.create_db_cluster_snapshot(DBClusterIdentifier=f"{p}-aurora",
                                               DBClusterSnapshotIdentifier=f"{p}-aurora-snap")["DBClusterSnapshot"]["DBClusterSnapshotArn"]
        self.log(account, region, record(account, region, "rds.amazonaws.com", "CreateDBClusterSnapshot",
            {"dBClusterIdentifier": f"{p}-aurora"}, {"dBClusterSnapshotArn": csnap}))
        self.add(account, region, "rds:cluster-snapshot", csnap, f"{p}-aurora-snap")

        ddb = s.client("dynamodb", region_name=region, endpoint_url=ENDPOINT)
        table = ddb.create_table(
            TableName=f"{p}-orders", BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )["TableDescription"]["TableArn"]
        self.log(account, region, record(account, region, "dynamodb.amazonaws.com", "CreateTable",
            {"tableName": f"{p}-orders"}, {"tableDescription": {"tableArn": table, "tableName": f"{p}-orders"}}))
        self.add(account, region, "dynamodb:table", table, f"{p}-orders")

        sns = s.client("sns", region_name=region, endpoint_url=ENDPOINT)
        topic = sns.create_topic(Name=f"{p}-alerts")["TopicArn"]
        self.log(account, region, record(account, region, "sns.amazonaws.com", "CreateTopic",
            {"name": f"{p}-alerts"}, {"topicArn": topic}))
        self.add(account, region, "sns:topic", topic, topic)

        logs = s.client("logs", region_name=region, endpoint_url=ENDPOINT)
        group = f"/{p}/app"
        logs.create_log_group(logGroupName=group)
        self.log(account, region, record(account, region, "logs.amazonaws.com", "CreateLogGroup",
            {"logGroupName": group}, None))
        self.add(account, region, "logs:log-group", f"arn:aws:logs:{region}:{account}:log-group:{group}", group)

        asg = s.client("autoscaling", region_name=region, endpoint_url=ENDPOINT)
        asg.create_auto_scaling_group(
            AutoScalingGroupName=f"{p}-asg", LaunchTemplate={"LaunchTemplateName": f"{p}-lt"},
            MinSize=0, MaxSize=1, DesiredCapacity=0, AvailabilityZones=[f"{region}a"],
        )
        self.log(account, region, record(account, region, "autoscaling.amazonaws.com", "CreateAutoScalingGroup",
            {"autoScalingGroupName": f"{p}-asg", "minSize": 0, "maxSize": 1}, None))
        self.add(account, region, "autoscaling:autoScalingGroup",
                 f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{p}-asg", f"{p}-asg")

        if global_too:
            iam = s.client("iam", endpoint_url=ENDPOINT)
            user = iam.create_user(UserName=f"{p}-ci")["User"]["Arn"]
            iam.tag_user(UserName=f"{p}-ci", Tags=[{"Key": "Owner", "Value": "platform"}])
            self.log(account, region, record(account, region, "iam.amazonaws.com", "CreateUser",
                {"userName": f"{p}-ci"}, {"user": {"arn": user, "userName": f"{p}-ci"}}))
            self.add(account, region, "iam:user", user, f"{p}-ci", added={"Owner": "platform"})
            trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            role = iam.create_role(RoleName=f"{p}-fn", Path="/app/", AssumeRolePolicyDocument=trust,
                                   Tags=[{"Key": "Team", "Value": "alpha"}])["Role"]["Arn"]
            self.log(account, region, record(account, region, "iam.amazonaws.com", "CreateRole",
                {"roleName": f"{p}-fn", "path": "/app/", "tags": [{"key": "Team", "value": "alpha"}]},
                {"role": {"arn": role, "roleName": f"{p}-fn"}}))
            self.add(account, region, "iam:role", role, f"{p}-fn", preset=team)
            doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
            policy = iam.create_policy(PolicyName=f"{p}-read", PolicyDocument=doc)["Policy"]["Arn"]
            self.log(account, region, record(account, region, "iam.amazonaws.com", "CreatePolicy",
                {"policyName": f"{p}-read"}, {"policy": {"arn": policy, "policyName": f"{p}-read"}}))
            self.add(account, region, "iam:policy", policy, policy)
            # No instance profile: moto 5.2 does not implement
            # ListInstanceProfileTags (HTTP 500), which tagwarden reads first.

            lam = s.client("lambda", region_name=region, endpoint_url=ENDPOINT)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("h.py", "def h(e, c):\n    return e\n")
            fn = lam.create_function(FunctionName=f"{p}-worker", Runtime="python3.12", Role=role,
                                     Handler="h.h", Code={"ZipFile": buf.getvalue()})["FunctionArn"]
            self.log(account, region, record(account, region, "lambda.amazonaws.com", "CreateFunction20150331",
                {"functionName": f"{p}-worker"}, {"functionArn": fn, "functionName": f"{p}-worker"}))
            self.add(account, region, "lambda:function", fn, f"{p}-worker")

    def more_ec2(self, account, region, ec2, vpc, subnet, instance):
        """The rest of the EC2 types in the catalog that moto can create."""
        p = self.prefix
        def ec2_record(name, request, response, kind, native, arn=None):
            self.log(account, region, record(account, region, "ec2.amazonaws.com", name, request, response))
            self.add(account, region, f"ec2:{kind}", arn or f"arn:aws:ec2:{region}:{account}:{kind}/{native}", native)
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2_record("CreateInternetGateway", {}, {"internetGateway": {"internetGatewayId": igw}}, "internet-gateway", igw)
        rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2_record("CreateRouteTable", {"vpcId": vpc}, {"routeTable": {"routeTableId": rtb}}, "route-table", rtb)
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        ec2_record("CreateNetworkAcl", {"vpcId": vpc}, {"networkAcl": {"networkAclId": acl}}, "network-acl", acl)
        eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
        ec2_record("CreateNetworkInterface", {"subnetId": subnet},
                   {"networkInterface": {"networkInterfaceId": eni}}, "network-interface", eni)
        key = ec2.create_key_pair(KeyName=f"{p}-key")["KeyPairId"]
        ec2_record("CreateKeyPair", {"keyName": f"{p}-key"}, {"keyName": f"{p}-key", "keyPairId": key}, "key-pair", key)
        eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2_record("AllocateAddress", {"domain": "vpc"}, {"allocationId": eip, "domain": "vpc"}, "elastic-ip", eip)
        lt = ec2.create_launch_template(LaunchTemplateName=f"{p}-lt",
                                        LaunchTemplateData={"ImageId": "ami-12345678"})["LaunchTemplate"]["LaunchTemplateId"]
        ec2_record("CreateLaunchTemplate", {"CreateLaunchTemplateRequest": {"LaunchTemplateName": f"{p}-lt"}},
                   {"CreateLaunchTemplateResponse": {"launchTemplate": {"launchTemplateId": lt}}}, "launch-template", lt)
        ami = ec2.create_image(InstanceId=instance, Name=f"{p}-image")["ImageId"]
        ec2_record("CreateImage", {"instanceId": instance, "name": f"{p}-image"}, {"imageId": ami}, "image", ami,
                   arn=f"arn:aws:ec2:{region}::image/{ami}")
        peer_vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
        pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=peer_vpc)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        ec2_record("CreateVpcPeeringConnection", {"vpcId": vpc, "peerVpcId": peer_vpc},
                   {"vpcPeeringConnection": {"vpcPeeringConnectionId": pcx}}, "vpc-peering-connection", pcx)
        cgw = ec2.create_customer_gateway(BgpAsn=65000, IpAddress="198.51.100.7", Type="ipsec.1")["CustomerGateway"]["CustomerGatewayId"]
        ec2_record("CreateCustomerGateway", {"type": "ipsec.1"}, {"customerGateway": {"customerGatewayId": cgw}},
                   "customer-gateway", cgw)
        vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
        ec2_record("CreateVpnGateway", {"type": "ipsec.1"}, {"vpnGateway": {"vpnGatewayId": vgw}}, "vpn-gateway", vgw)
        tgw = ec2.create_transit_gateway(Description=p)["TransitGateway"]
        ec2_record("CreateTransitGateway", {"CreateTransitGatewayRequest": {"Description": p}},
                   {"CreateTransitGatewayResponse": {"transitGateway": {"transitGatewayArn": tgw["TransitGatewayArn"]}}},
                   "transit-gateway", tgw["TransitGatewayId"], arn=tgw["TransitGatewayArn"])
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])
        nat = nat["NatGateway"]["NatGatewayId"]
        ec2_record("CreateNatGateway", {"CreateNatGatewayRequest": {"SubnetId": subnet}},
                   {"CreateNatGatewayResponse": {"natGateway": {"natGatewayId": nat}}}, "natgateway", nat)
        vpce = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{region}.s3")["VpcEndpoint"]["VpcEndpointId"]
        ec2_record("CreateVpcEndpoint", {"CreateVpcEndpointRequest": {"VpcId": vpc}},
                   {"CreateVpcEndpointResponse": {"vpcEndpoint": {"vpcEndpointId": vpce}}}, "vpc-endpoint", vpce)

    def add_unknown(self, account, region):
        """Records naming resources that were never created."""
        p = self.prefix
        bucket = f"{p}-missing-{account}"
        self.log(account, region, record(account, region, "s3.amazonaws.com", "CreateBucket",
            {"bucketName": bucket}, None))
        self.unknown.append(f"arn:aws:s3:::{bucket}")
        # moto's tagging API refuses SQS ("Service not yet supported"), where
        # AWS tags queues: it must come back failed, never dropped.
        sqs = session(account).client("sqs", region_name=region, endpoint_url=ENDPOINT)
        url = sqs.create_queue(QueueName=f"{p}-jobs")["QueueUrl"]
        self.log(account, region, record(account, region, "sqs.amazonaws.com", "CreateQueue",
            {"queueName": f"{p}-jobs"}, {"queueUrl": url}))
        self.unsupported.append(f"arn:aws:sqs:{region}:{account}:{p}-jobs")
        # Only S3 says so: moto accepts unknown EC2 ids in CreateTags and
        # unknown ARNs in TagResources without an error, where AWS fails.

    def build_generated(self, account, region):
        """Resources whose catalog rows are generated from the API models
        (no hand-written row), one of each row shape: the created ARN in the
        response, nested or not; an ARN built from a request member; preset
        tags as a map, a list and under a service's own member name. Each
        record is the service's whole answer in CloudTrail's casing."""
        s = session(account)
        p = self.prefix
        c = lambda name: s.client(name, region_name=region, endpoint_url=ENDPOINT)
        # One of tagwarden's own keys, set by the creator: its value is the
        # creator's (design.md), read from the record's tags.
        team = {"Team": "alpha", "ManagedBy": "terraform"}

        def logged(source, name, request, response):
            self.log(account, region, record(account, region, source, name, trail_shape(request),
                                             trail_shape(response)))

        req = {"BackupVaultName": f"{p}-vault", "BackupVaultTags": team}
        vault = c("backup").create_backup_vault(**req)
        logged("backup.amazonaws.com", "CreateBackupVault", req, vault)
        self.add(account, region, "backup:backupVault", vault["BackupVaultArn"], f"{p}-vault", preset=team)

        req = {"name": f"{p}-graph", "authenticationType": "API_KEY"}
        api = c("appsync").create_graphql_api(**req)
        logged("appsync.amazonaws.com", "CreateGraphqlApi", req, api)
        self.add(account, region, "appsync:graphqlapi", api["graphqlApi"]["arn"], api["graphqlApi"]["apiId"])

        req = {"Name": f"{p}-crawler", "Role": f"arn:aws:iam::{account}:role/{p}-glue",
               "Targets": {"S3Targets": [{"Path": f"s3://{p}-data"}]}, "Tags": team}
        c("glue").create_crawler(**req)
        logged("glue.amazonaws.com", "CreateCrawler", req, {})
        self.add(account, region, "glue:crawler", f"arn:aws:glue:{region}:{account}:crawler/{p}-crawler",
                 f"{p}-crawler", preset=team)

        req = {"applicationName": f"{p}-deploy"}
        app = c("codedeploy").create_application(**req)
        logged("codedeploy.amazonaws.com", "CreateApplication", req, app)
        self.add(account, region, "codedeploy:application",
                 f"arn:aws:codedeploy:{region}:{account}:application:{p}-deploy", f"{p}-deploy")

        req = {"ModelName": f"{p}-model", "ExecutionRoleArn": f"arn:aws:iam::{account}:role/{p}-sm",
               "PrimaryContainer": {"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"},
               "Tags": [{"Key": k, "Value": v} for k, v in team.items()]}
        model = c("sagemaker").create_model(**req)
        logged("sagemaker.amazonaws.com", "CreateModel", req, model)
        self.add(account, region, "sagemaker:model", model["ModelArn"], f"{p}-model", preset=team)

        req = {"deletionProtectionEnabled": False}
        cluster = c("dsql").create_cluster(**req)
        logged("dsql.amazonaws.com", "CreateCluster", req, cluster)
        self.add(account, region, "dsql:Cluster", cluster["arn"], cluster["identifier"])

    def write(self, out):
        for (account, region), recs in self.records.items():
            d = os.path.join(out, "AWSLogs", account, "CloudTrail", region, "2026", "11", "20")
            os.makedirs(d, exist_ok=True)
            name = f"{account}_CloudTrail_{region}_20261120T1000Z_{uuid.uuid4().hex[:16]}.json.gz"
            with gzip.open(os.path.join(d, name), "wt") as f:
                json.dump({"Records": recs}, f)


# Members whose value is a map of the caller's own tags: CloudTrail keeps
# its keys as sent.
TAG_MAPS = {"Tags", "BackupVaultTags"}


def trail_shape(value):
    """A boto3 request or answer as CloudTrail writes it for JSON-protocol
    services: each member's first letter lower-cased (a tag map's keys are
    the caller's, kept), times as text."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: v if k in TAG_MAPS and isinstance(v, dict) else trail_shape(v)
                for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [trail_shape(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def tags_of(r):
    """A resource's tags through its service's own API (not the tagging
    API that tagwarden may have used to write them)."""
    s = session(r["account"])
    region, native, kind = r["region"], r["id"], r["type"]
    c = lambda name: s.client(name, region_name=region, endpoint_url=ENDPOINT)
    if kind.startswith("ec2:"):
        out = c("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [native]}])["Tags"]
    elif kind == "s3:bucket":
        try:
            out = c("s3").get_bucket_tagging(Bucket=native)["TagSet"]
        except c("s3").exceptions.ClientError:
            out = []
    elif kind == "iam:user":
        out = c("iam").list_user_tags(UserName=native)["Tags"]
    elif kind == "iam:role":
        out = c("iam").list_role_tags(RoleName=native)["Tags"]
    elif kind == "iam:policy":
        out = c("iam").list_policy_tags(PolicyArn=native)["Tags"]
    elif kind.startswith("rds:"):
        out = c("rds").list_tags_for_resource(ResourceName=r["arn"])["TagList"]
    elif kind == "dynamodb:table":
        out = c("dynamodb").list_tags_of_resource(ResourceArn=r["arn"])["Tags"]
    elif kind == "sns:topic":
        out = c("sns").list_tags_for_resource(ResourceArn=native)["Tags"]
    elif kind == "logs:log-group":
        return c("logs").list_tags_log_group(logGroupName=native)["tags"]
    elif kind == "lambda:function":
        return c("lambda").list_tags(Resource=r["arn"])["Tags"]
    elif kind == "backup:backupVault":
        return c("backup").list_tags(ResourceArn=r["arn"])["Tags"]
    elif kind == "appsync:graphqlapi":
        return c("appsync").list_tags_for_resource(resourceArn=r["arn"])["tags"]
    elif kind == "glue:crawler":
        return c("glue").get_tags(ResourceArn=r["arn"])["Tags"]
    elif kind == "codedeploy:application":
        out = c("codedeploy").list_tags_for_resource(ResourceArn=r["arn"])["Tags"]
    elif kind == "sagemaker:model":
        out = c("sagemaker").list_tags(ResourceArn=r["arn"])["Tags"]
    elif kind == "dsql:Cluster":
        return c("dsql").list_tags_for_resource(resourceArn=r["arn"])["tags"]
    elif kind == "autoscaling:autoScalingGroup":
        out = c("autoscaling").describe_tags(
            Filters=[{"Name": "auto-scaling-group", "Values": [native]}])["Tags"]
    else:
        raise SystemExit(f"no reader for {kind}")
    return {t["Key"]: t["Value"] for t in out}


def upload(bucket, region, src, prefix):
    """Puts logs into a trail bucket under `prefix`, plus objects that must
    never be read: a digest, an insight file and a log dated outside any
    recent window (each names a bucket `never-read-*`), and one key with a
    space for an S3 notification to name (it names `from-notification-*`)."""
    s3 = boto3.client("s3", region_name=region, endpoint_url=ENDPOINT)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    def gz(name):
        rec = record(OWN_ACCOUNT, region, "s3.amazonaws.com", "CreateBucket", {"bucketName": name}, None)
        return gzip.compress(json.dumps({"Records": [rec]}).encode())
    for root, _, files in os.walk(src):
        for f in files:
            path = os.path.join(root, f)
            s3.upload_file(path, bucket, prefix + os.path.relpath(path, src))
    base = f"{prefix}AWSLogs/{OWN_ACCOUNT}"
    extra = {
        f"{base}/CloudTrail-Digest/{region}/2026/11/20/x_CloudTrail-Digest_{region}_20261120T1000Z.json.gz": "never-read-digest",
        f"{base}/CloudTrail-Insight/{region}/2026/11/20/x_CloudTrail-Insight_{region}_20261120T1000Z.json.gz": "never-read-insight",
        f"{base}/CloudTrail/{region}/2026/10/01/x_CloudTrail_{region}_20261001T1000Z_old.json.gz": "never-read-old",
        "manual/extra log.json.gz": "from-notification-1",
    }
    for key, name in extra.items():
        s3.put_object(Bucket=bucket, Key=key, Body=gz(name))


def bulk(account, region, instances, groups, prefix, out):
    """Many new resources of one account and region, created by one
    principal at one time (so they share one tag set): EC2 instances, in
    RunInstances calls of up to 1000, and log groups (the tagging API).
    Prints {"ec2": [instance and root volume ids], "log_groups": [arns]}."""
    s = session(account)
    ec2 = s.client("ec2", region_name=region, endpoint_url=ENDPOINT)
    logs = s.client("logs", region_name=region, endpoint_url=ENDPOINT)
    w = World(prefix)
    ids, arns = [], []
    left = instances
    while left > 0:
        n = min(left, 1000)
        run = ec2.run_instances(ImageId="ami-12345678", MinCount=n, MaxCount=n, InstanceType="t3.micro")
        batch = [i["InstanceId"] for i in run["Instances"]]
        ids += batch
        left -= n
        w.log(account, region, record(account, region, "ec2.amazonaws.com", "RunInstances",
            {"instancesSet": {"items": [{"imageId": "ami-12345678", "minCount": n, "maxCount": n}]}},
            {"instancesSet": {"items": [{"instanceId": i} for i in batch]}}))
    # Their root volumes, which tagwarden reads and tags with them.
    volumes = []
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        pages = ec2.get_paginator("describe_volumes").paginate(
            Filters=[{"Name": "attachment.instance-id", "Values": chunk}])
        volumes += [v["VolumeId"] for page in pages for v in page["Volumes"]]
    assert len(volumes) == len(ids), (len(volumes), len(ids))
    ids += volumes
    for n in range(groups):
        name = f"/{prefix}/bulk/{n:05d}"
        logs.create_log_group(logGroupName=name)
        w.log(account, region, record(account, region, "logs.amazonaws.com", "CreateLogGroup",
            {"logGroupName": name}, None))
        arns.append(f"arn:aws:logs:{region}:{account}:log-group:{name}")
    w.write(out)
    return {"ec2": ids, "log_groups": arns}


def recorder(action, manifest=None):
    """moto's request recorder: `start` clears and starts it; `save PATH`
    stops it and writes what it recorded to PATH; `writes MANIFEST` stops it and counts the tagging writes that name a resource of
    the manifest, with the most resources one call named (other tests' requests are recorded too, and ignored)."""
    import base64, urllib.parse, urllib.request
    def call(path, method="POST"):
        req = urllib.request.Request(f"{ENDPOINT}/moto-api/recorder/{path}", method=method)
        return urllib.request.urlopen(req).read().decode()
    if action == "start":
        call("reset-recording")
        call("start-recording")
        return {}
    call("stop-recording")
    if action == "save":
        Path(manifest).write_text(call("download-recording", "GET"))
        return {}
    ours = set(json.load(open(manifest))["ec2"]) | set(json.load(open(manifest))["log_groups"])
    counts = {}
    # Requests recorded at the same moment can land on one line, back to
    # back: decode object after object rather than line by line.
    text, pos, records = call("download-recording", "GET"), 0, []
    decoder = json.JSONDecoder()
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        r, pos = decoder.raw_decode(text, pos)
        records.append(r)
    for r in records:
        body = r.get("body") or ""
        if r.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        target = (r.get("headers") or {}).get("X-Amz-Target", "")
        if target.endswith(".TagResources"):
            names = set(json.loads(body).get("ResourceARNList", []))
            op = "TagResources"
        elif "Action=CreateTags" in body:
            q = urllib.parse.parse_qs(body)
            names = {v[0] for k, v in q.items() if k.startswith("ResourceId.")}
            op = "CreateTags"
        else:
            continue
        if names & ours:
            counts[op] = counts.get(op, 0) + 1
            counts[f"{op}.max_names"] = max(counts.get(f"{op}.max_names", 0), len(names))
    return counts


GOOD = {"Environment": "prod", "Owner": "alice", "Application": "billing-api"}


def compliance(region, prefix):
    """A known mix in the caller's own account, for `scan`: ARN -> the
    violations the default policy must find ({} when compliant)."""
    s = session(OWN_ACCOUNT)
    ec2 = s.client("ec2", region_name=region, endpoint_url=ENDPOINT)
    acct = OWN_ACCOUNT
    tl = lambda tags: [{"Key": k, "Value": v} for k, v in tags.items()]
    want = {}

    def instance(tags):
        spec = [{"ResourceType": "instance", "Tags": tl(tags)}] if tags else []
        i = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, TagSpecifications=spec)
        return f"arn:aws:ec2:{region}:{acct}:instance/" + i["Instances"][0]["InstanceId"]

    want[instance(GOOD)] = {}
    want[instance({})] = {"missing": ["Application", "Environment", "Owner"]}
    vol = ec2.create_volume(AvailabilityZone=f"{region}a", Size=1, TagSpecifications=[
        {"ResourceType": "volume", "Tags": tl(dict(GOOD, Environment="production"))}])["VolumeId"]
    want[f"arn:aws:ec2:{region}:{acct}:volume/{vol}"] = {"invalid": {"Environment": "production"}}
    snap = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    want[f"arn:aws:ec2:{region}::snapshot/{snap}"] = {"missing": ["Application", "Environment", "Owner"]}
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName=f"{prefix}-sg", Description="d", VpcId=vpc)["GroupId"]
    wrong = {k: v for k, v in GOOD.items() if k != "Environment"}
    wrong["environment"] = "dev"
    ec2.create_tags(Resources=[sg], Tags=tl(wrong))
    want[f"arn:aws:ec2:{region}:{acct}:security-group/{sg}"] = {"wrong_case": {"environment": "Environment"}}
    s3 = s.client("s3", region_name=region, endpoint_url=ENDPOINT)
    for name, tags, verdict in [
        (f"{prefix}-good", GOOD, {}),
        (f"{prefix}-bare", {}, {"missing": ["Application", "Environment", "Owner"]}),
    ]:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
        if tags:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tl(tags)})
        want[f"arn:aws:s3:::{name}"] = verdict
    ddb = s.client("dynamodb", region_name=region, endpoint_url=ENDPOINT)
    t = ddb.create_table(TableName=f"{prefix}-table", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                         Tags=[{"Key": "Owner", "Value": "alice"}])
    want[t["TableDescription"]["TableArn"]] = {"missing": ["Application", "Environment"]}

    rds = s.client("rds", region_name=region, endpoint_url=ENDPOINT)
    db = rds.create_db_instance(DBInstanceIdentifier=f"{prefix}-db", DBInstanceClass="db.t3.micro",
                                Engine="postgres", AllocatedStorage=20, MasterUsername="u",
                                MasterUserPassword="password123")["DBInstance"]["DBInstanceArn"]
    want[db] = {"missing": ["Application", "Environment", "Owner"]}
    cl = rds.create_db_cluster(DBClusterIdentifier=f"{prefix}-cluster", Engine="aurora-postgresql",
                               MasterUsername="u", MasterUserPassword="password123",
                               Tags=tl(dict(GOOD, Environment="Prod")))["DBCluster"]["DBClusterArn"]
    want[cl] = {"invalid": {"Environment": "Prod"}}

    iam = s.client("iam", endpoint_url=ENDPOINT)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName=f"{prefix}-fn", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    lam = s.client("lambda", region_name=region, endpoint_url=ENDPOINT)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("h.py", "def h(e, c):\n    return e\n")
    for name, tags, verdict in [
        (f"{prefix}-good-fn", GOOD, {}),
        (f"{prefix}-bare-fn", {}, {"missing": ["Application", "Environment", "Owner"]}),
    ]:
        fn = lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="h.h",
                                 Code={"ZipFile": buf.getvalue()}, Tags=tags)["FunctionArn"]
        want[fn] = verdict

    sns = s.client("sns", region_name=region, endpoint_url=ENDPOINT)
    for name, tags, verdict in [
        (f"{prefix}-good-topic", GOOD, {}),
        (f"{prefix}-bare-topic", {}, {"missing": ["Application", "Environment", "Owner"]}),
    ]:
        want[sns.create_topic(Name=name, Tags=tl(tags))["TopicArn"]] = verdict

    sqs = s.client("sqs", region_name=region, endpoint_url=ENDPOINT)
    for name, tags, verdict in [
        (f"{prefix}-good-queue", GOOD, {}),
        (f"{prefix}-half-queue", {"Owner": "alice"}, {"missing": ["Application", "Environment"]}),
    ]:
        sqs.create_queue(QueueName=name, tags=tags)
        want[f"arn:aws:sqs:{region}:{acct}:{name}"] = verdict
    # Not listed by `scan` (not in `want`), but checked when an event names it.
    s.client("logs", region_name=region, endpoint_url=ENDPOINT).create_log_group(logGroupName=f"{prefix}-logs")
    return want


def remediation(region, prefix):
    """Resources for `scan --remediate`: ARN -> tags before. One lacks only
    Owner and carries CreatedBy (fixable), one has nothing (Owner cannot be
    derived), one is compliant (must not be touched)."""
    s = session(OWN_ACCOUNT)
    ec2 = s.client("ec2", region_name=region, endpoint_url=ENDPOINT)
    tl = lambda tags: [{"Key": k, "Value": v} for k, v in tags.items()]
    out = {}
    for tags in [
        {"Environment": "dev", "Application": "web", "CreatedBy": "arn:aws:iam::123456789012:user/alice"},
        {},
        dict(GOOD, CreatedBy="arn:aws:iam::123456789012:user/bob"),
    ]:
        spec = [{"ResourceType": "instance", "Tags": tl(tags)}] if tags else []
        i = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, TagSpecifications=spec)
        out[f"arn:aws:ec2:{region}:{OWN_ACCOUNT}:instance/" + i["Instances"][0]["InstanceId"]] = tags
    rds = s.client("rds", region_name=region, endpoint_url=ENDPOINT)
    db = rds.create_db_instance(DBInstanceIdentifier=f"{prefix}-db", DBInstanceClass="db.t3.micro",
                                Engine="postgres", AllocatedStorage=20, MasterUsername="u",
                                MasterUserPassword="password123",
                                Tags=tl({"Environment": "prod", "Application": "db",
                                         "CreatedBy": "arn:aws:iam::123456789012:user/carol"}))
    out[db["DBInstance"]["DBInstanceArn"]] = {"Environment": "prod", "Application": "db",
                                              "CreatedBy": "arn:aws:iam::123456789012:user/carol"}
    # A member account, reached through the assumed role.
    member = session(MEMBER_ACCOUNT).client("ec2", region_name=region, endpoint_url=ENDPOINT)
    i = member.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
    out[f"arn:aws:ec2:{region}:{MEMBER_ACCOUNT}:instance/" + i["Instances"][0]["InstanceId"]] = {}
    return out


def tags_now(region, arns):
    """Current tags of EC2 instances, log groups and RDS instances, by ARN."""
    s = session(OWN_ACCOUNT)
    ec2 = s.client("ec2", region_name=region, endpoint_url=ENDPOINT)
    rds = s.client("rds", region_name=region, endpoint_url=ENDPOINT)
    logs = s.client("logs", region_name=region, endpoint_url=ENDPOINT)
    out = {}
    for arn in arns:
        if ":log-group:" in arn:
            out[arn] = logs.list_tags_for_resource(resourceArn=arn)["tags"]
        elif ":instance/" in arn:
            r = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [arn.rsplit("/", 1)[1]]}])
            out[arn] = {t["Key"]: t["Value"] for t in r["Tags"]}
        else:
            out[arn] = {t["Key"]: t["Value"] for t in rds.list_tags_for_resource(ResourceName=arn)["TagList"]}
    return out


def glue_untag(region, arn, keys_json):
    """Someone removes tags from a Glue resource through Glue's own API."""
    glue = session(OWN_ACCOUNT).client("glue", region_name=region, endpoint_url=ENDPOINT)
    glue.untag_resource(ResourceArn=arn, TagsToRemove=json.loads(keys_json))
    return glue.get_tags(ResourceArn=arn)["Tags"]


def sink_setup(region, prefix):
    """A scan-log bucket and an alert topic delivering to a queue."""
    s = session(OWN_ACCOUNT)
    c = lambda name: s.client(name, region_name=region, endpoint_url=ENDPOINT)
    bucket = f"{prefix}-scanlogs"
    c("s3").create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    topic = c("sns").create_topic(Name=f"{prefix}-alerts")["TopicArn"]
    q = c("sqs").create_queue(QueueName=f"{prefix}-alerts")["QueueUrl"]
    qarn = c("sqs").get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    c("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    return {"bucket": bucket, "topic": topic, "queue": q}


def sink_read(region, bucket, queue):
    s = session(OWN_ACCOUNT)
    c = lambda name: s.client(name, region_name=region, endpoint_url=ENDPOINT)
    s3 = c("s3")
    objects = {}
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        objects[o["Key"]] = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode()
    messages = []
    while True:
        got = c("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            break
        messages += [m["Body"] for m in got]
        for m in got:
            c("sqs").delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return {"objects": objects, "messages": messages}


def put_logs(bucket, src):
    """Puts the logs under `src` into an existing bucket, keyed as laid out
    (the trail's own layout); prints the keys."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT)
    keys = []
    for root, _, files in os.walk(src):
        for f in sorted(files):
            path = os.path.join(root, f)
            key = os.path.relpath(path, src)
            s3.upload_file(path, bucket, key)
            keys.append(key)
    return keys


def subscribe(topic):
    """A queue subscribed to `topic` (raw delivery); prints its URL."""
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=ENDPOINT)
    name = topic.rsplit(":", 1)[1] + "-reader"
    q = sqs.create_queue(QueueName=name)["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name="us-east-1", endpoint_url=ENDPOINT).subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=qarn, Attributes={"RawMessageDelivery": "true"})
    return q


def regional(template, suffix, region, events):
    """Deploys deploy/regional.yaml in REGION of the own
    account, forwarding to the bus of the central stack SUFFIX in us-east-1,
    then puts EVENTS (a JSON list of EventBridge events) on REGION's default
    bus. Prints the stack's status."""
    cf = boto3.client("cloudformation", region_name=region, endpoint_url=ENDPOINT)
    name = f"tagwarden-regional-{suffix}"
    from samtranslator.yaml_helper import yaml_parse  # reads the !Sub short forms
    body = json.dumps(yaml_parse(open(template).read()))
    cf.create_stack(StackName=name, TemplateBody=body,
                    Parameters=[{"ParameterKey": "EnvironmentSuffix", "ParameterValue": suffix},
                                {"ParameterKey": "CentralAccountId", "ParameterValue": OWN_ACCOUNT},
                                {"ParameterKey": "HomeRegion", "ParameterValue": "us-east-1"}],
                    Capabilities=["CAPABILITY_NAMED_IAM"])
    status = cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    events_client = boto3.client("events", region_name=region, endpoint_url=ENDPOINT)
    for e in json.loads(events):
        events_client.put_events(Entries=[{"Source": e["source"], "DetailType": e["detail-type"],
                                           "Detail": json.dumps(e["detail"])}])
    return status


def db_new(region, name):
    """A new RDS instance in the own account: its ARN."""
    rds = boto3.client("rds", region_name=region, endpoint_url=ENDPOINT)
    return rds.create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="admin1", MasterUserPassword="password-123",
    )["DBInstance"]["DBInstanceArn"]


def queue_delayed(url):
    """How many messages wait out their DelaySeconds in the queue."""
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=ENDPOINT)
    got = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    return int(got["Attributes"]["ApproximateNumberOfMessagesDelayed"])


def versions_put(bucket, key):
    """Two versions of KEY in BUCKET."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for body in [b"one", b"two"]:
        s3.put_object(Bucket=bucket, Key=key, Body=body)
    return {}


def gone(stack, bucket, table):
    """Whether the stack, the bucket and the table are gone."""
    from botocore.exceptions import ClientError
    def missing(call):
        try:
            call()
            return False
        except ClientError:
            return True
    cf = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=ENDPOINT)
    stacks = cf.list_stacks()["StackSummaries"]
    return {"stack": all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] == stack),
            "bucket": missing(lambda: boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT).head_bucket(Bucket=bucket)),
            "table": missing(lambda: boto3.client("dynamodb", region_name="us-east-1", endpoint_url=ENDPOINT).describe_table(TableName=table))}


def queue_read(url):
    """Every message waiting in the queue (deleted once read)."""
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=ENDPOINT)
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        if not got:
            return out
        for m in got:
            out.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def dead_letters(url):
    """Every message waiting in the queue with its string attributes (deleted once read)."""
    sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=ENDPOINT)
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        if not got:
            return out
        for m in got:
            attrs = {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}
            out.append({"body": m["Body"], "attributes": attrs})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def table_items(table):
    """Every item of a DynamoDB table, its string attributes only."""
    ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=ENDPOINT)
    out, start = [], None
    while True:
        kw = {"TableName": table, **({"ExclusiveStartKey": start} if start else {})}
        page = ddb.scan(**kw)
        out += [{k: v["S"] for k, v in item.items() if "S" in v} for item in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def secret_put(name, value):
    """Creates the secret, or gives it a new value (a rotation); prints its ARN."""
    sm = boto3.client("secretsmanager", region_name="us-east-1", endpoint_url=ENDPOINT)
    try:
        return sm.create_secret(Name=name, SecretString=value)["ARN"]
    except sm.exceptions.ResourceExistsException:
        return sm.put_secret_value(SecretId=name, SecretString=value)["ARN"]


def instance_new(region, tags="{}"):
    """One new EC2 instance in the own account, with the tags (a JSON
    object) set at launch; prints its id."""
    ec2 = session(OWN_ACCOUNT).client("ec2", region_name=region, endpoint_url=ENDPOINT)
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in json.loads(tags).items()]}]
    extra = {"TagSpecifications": spec} if json.loads(tags) else {}
    return ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1, **extra)["Instances"][0]["InstanceId"]


def instance_tags(region, instance, set_json="{}", remove_json="[]"):
    """Sets and removes tags on an EC2 instance of the own account, as a
    principal other than tagwarden would; prints nothing useful."""
    ec2 = session(OWN_ACCOUNT).client("ec2", region_name=region, endpoint_url=ENDPOINT)
    tags = json.loads(set_json)
    if tags:
        ec2.create_tags(Resources=[instance], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    keys = json.loads(remove_json)
    if keys:
        ec2.delete_tags(Resources=[instance], Tags=[{"Key": k} for k in keys])
    return True


def ic_user(region, store, name):
    """An Identity Center user in the identity store `store` (d-...);
    prints its id."""
    ids = boto3.client("identitystore", region_name=region, endpoint_url=ENDPOINT)
    return ids.create_user(IdentityStoreId=store, UserName=name, DisplayName=name,
                           Name={"GivenName": name, "FamilyName": "Example"})["UserId"]


def bucket_logs(bucket, src):
    """A new bucket holding the logs under `src`, keyed as laid out; prints
    the keys and sizes."""
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT)
    s3.create_bucket(Bucket=bucket)
    put_logs(bucket, src)
    return {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}


def sfn_machine(name):
    """A state machine as the template's backfill (moto runs none); prints
    its ARN."""
    sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=ENDPOINT)
    definition = {"StartAt": "Logs", "States": {"Logs": {"Type": "Pass", "End": True}}}
    return sfn.create_state_machine(name=name, definition=json.dumps(definition),
                                    roleArn=f"arn:aws:iam::{OWN_ACCOUNT}:role/backfill")["stateMachineArn"]


def sfn_executions(machine):
    """The state machine's executions: ARN, status and input each."""
    sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=ENDPOINT)
    out = []
    for e in sfn.list_executions(stateMachineArn=machine)["executions"]:
        d = sfn.describe_execution(executionArn=e["executionArn"])
        out.append({"arn": e["executionArn"], "status": d["status"], "input": json.loads(d["input"])})
    return out


def sfn_stop(execution):
    sfn = boto3.client("stepfunctions", region_name="us-east-1", endpoint_url=ENDPOINT)
    sfn.stop_execution(executionArn=execution)
    return True


def main():
    import sys
    for command, fn in [("instance-new", instance_new), ("instance-tags", instance_tags), ("put-logs", put_logs), ("subscribe", subscribe), ("queue-read", queue_read), ("dead-letters", dead_letters),
                        ("table-items", table_items), ("secret-put", secret_put),
                        ("regional", regional), ("db-new", db_new), ("queue-delayed", queue_delayed),
                        ("versions-put", versions_put), ("gone", gone), ("ic-user", ic_user),
                        ("bucket-logs", bucket_logs), ("sfn-machine", sfn_machine),
                        ("sfn-executions", sfn_executions), ("sfn-stop", sfn_stop),
                        ("glue-untag", glue_untag)]:
        if sys.argv[1:2] == [command]:
            json.dump(fn(*sys.argv[2:]), sys.stdout)
            return
    if sys.argv[1:2] == ["sink-setup"]:
        json.dump(sink_setup(*sys.argv[2:4]), sys.stdout)
        return
    if sys.argv[1:2] == ["sink-read"]:
        json.dump(sink_read(*sys.argv[2:5]), sys.stdout)
        return
    if sys.argv[1:2] == ["compliance"]:
        json.dump(compliance(*sys.argv[2:4]), sys.stdout)
        return
    if sys.argv[1:2] == ["remediation"]:
        json.dump(remediation(*sys.argv[2:4]), sys.stdout)
        return
    if sys.argv[1:2] == ["tags-now"]:
        json.dump(tags_now(sys.argv[2], sys.argv[3:]), sys.stdout)
        return
    if sys.argv[1:2] == ["recorder"]:
        json.dump(recorder(*sys.argv[2:4]), sys.stdout)
        return
    if sys.argv[1:2] == ["bulk"]:
        account, region, instances, groups, prefix, out = sys.argv[2:8]
        json.dump(bulk(account, region, int(instances), int(groups), prefix, out), sys.stdout)
        return
    if sys.argv[1:2] == ["upload"]:
        upload(*sys.argv[2:6])
        return
    if sys.argv[1:2] == ["tags"]:
        manifest = json.load(open(sys.argv[2]))
        json.dump({r["arn"]: tags_of(r) for r in manifest["resources"]}, sys.stdout, indent=1)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", required=True)
    ap.add_argument("--regions", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--unknown", action="store_true")
    ap.add_argument("--generated", action="store_true",
                    help="only resources of generated catalog rows (World.build_generated)")
    a = ap.parse_args()
    w = World(a.prefix)
    regions = a.regions.split(",")
    for account in a.accounts.split(","):
        for n, region in enumerate(regions):
            if a.generated:
                w.build_generated(account, region)
            else:
                w.build(account, region, global_too=(n == 0))
        if a.unknown:
            w.add_unknown(account, regions[0])
    w.write(a.out)
    json.dump({"resources": w.resources, "unknown": w.unknown, "unsupported": w.unsupported},
              fp=sys.stdout, indent=1)


if __name__ == "__main__":
    main()
