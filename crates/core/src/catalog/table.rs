//! The event catalog: one row per (eventSource, eventName) that creates a
//! taggable resource. Kept sorted by (source, name); a test checks it, and
//! every row has a realistic record under `tests/fixtures/catalog/`.

use super::Entry;
use super::TaggingApi::{self, *};

pub(super) const fn row(
    source: &'static str,
    name: &'static str,
    resource_type: &'static str,
    ids: &'static str,
    arn: &'static str,
    api: TaggingApi,
    tags: &'static [&'static str],
) -> Entry {
    Entry {
        source,
        name,
        resource_type,
        ids,
        arn,
        api,
        tags,
        alternatives: &[],
    }
}

const NO_TAGS: &[&str] = &[];
const RP_TAGS: &[&str] = &["requestParameters.tags"];

/// EC2 tag specifications for one resource type, in the camelCase shape
/// CloudTrail logs for classic EC2 calls.
#[rustfmt::skip]
macro_rules! ec2_tags {
    ($ty:literal) => {
        &[concat!("requestParameters.tagSpecificationSet.items[resourceType=", $ty, "].tags")]
    };
}

/// Newer EC2 calls log their raw XML request (`CreateXRequest`, PascalCase);
/// one `TagSpecification` is an object, several are a list.
#[rustfmt::skip]
macro_rules! ec2_xml_tags {
    ($req:literal, $ty:literal) => {
        &[
            concat!("requestParameters.", $req, ".TagSpecification.Tag"),
            concat!("requestParameters.", $req, ".TagSpecification[ResourceType=", $ty, "].Tag"),
        ]
    };
}

#[rustfmt::skip]
pub static ENTRIES: &[Entry] = &[
    // HTTP/WebSocket APIs (API Gateway v2) share the eventSource with REST APIs.
    row("apigateway.amazonaws.com", "CreateApi", "apigateway:apis",
        "responseElements.apiId", "arn:{partition}:apigateway:{region}::/apis/{id}", ResourceGroups, RP_TAGS),
    // The response is the REST API plus HAL-style link templates; `id` is the API id.
    row("apigateway.amazonaws.com", "CreateRestApi", "apigateway:restapis",
        "responseElements.id", "arn:{partition}:apigateway:{region}::/restapis/{id}", ResourceGroups,
        &["requestParameters.createRestApiInput.tags"]),
    // A stage's ARN holds its REST API's id, from the request; the response
    // names only the stage. The body is logged under `createStageInput`.
    row("apigateway.amazonaws.com", "CreateStage", "apigateway:stages",
        "responseElements.stageName",
        "arn:{partition}:apigateway:{region}::/restapis/{requestParameters.restApiId}/stages/{id}",
        ResourceGroups, &["requestParameters.createStageInput.tags"]),
    // The real ARN holds a uuid (`autoScalingGroup:<uuid>:autoScalingGroupName/<name>`)
    // that no part of the event carries (responseElements is null). `*` stands
    // for it, as in IAM resource patterns; CreateOrUpdateTags addresses the
    // group by name, which is the ARN's tail.
    row("autoscaling.amazonaws.com", "CreateAutoScalingGroup", "autoscaling:autoScalingGroup",
        "requestParameters.autoScalingGroupName",
        "arn:{partition}:autoscaling:{region}:{account}:autoScalingGroup:*:autoScalingGroupName/{id}", AutoScaling,
        RP_TAGS),
    // Recorded as the parent of what it launches (`aws:cloudformation:stack-id`),
    // never tagged: its tags change only through UpdateStack.
    row("cloudformation.amazonaws.com", "CreateStack", "cloudformation:stack",
        "responseElements.stackId", "{id}", Untagged, RP_TAGS),
    // CloudFront is global: tag through the tagging API in us-east-1.
    row("cloudfront.amazonaws.com", "CreateDistribution", "cloudfront:distribution",
        "responseElements.distribution.aRN", "{id}", ResourceGroups, NO_TAGS),
    row("cloudfront.amazonaws.com", "CreateDistributionWithTags", "cloudfront:distribution",
        "responseElements.distribution.aRN", "{id}", ResourceGroups,
        &["requestParameters.distributionConfigWithTags.tags.items"]),
    // CloudHSM v2 logs as `cloudhsm` (its signing name, not the endpoint's
    // `cloudhsmv2`) and answers with the cluster id alone.
    row("cloudhsm.amazonaws.com", "CreateCluster", "cloudhsm:cluster",
        "responseElements.cluster.clusterId", "arn:{partition}:cloudhsm:{region}:{account}:cluster/{id}",
        ResourceGroups, &["requestParameters.tagList"]),
    // A query-protocol service whose single result member stays wrapped
    // (unlike RDS); the create call takes no tags.
    row("cloudsearch.amazonaws.com", "CreateDomain", "cloudsearch:domain",
        "responseElements.domainStatus.aRN", "{id}", ResourceGroups, NO_TAGS)
        .or(&[("responseElements.domainStatus.domainName", "arn:{partition}:cloudsearch:{region}:{account}:domain/{id}")]),
    row("dynamodb.amazonaws.com", "CreateTable", "dynamodb:table",
        "responseElements.tableDescription.tableArn", "{id}", ResourceGroups, RP_TAGS),
    row("ec2.amazonaws.com", "AllocateAddress", "ec2:elastic-ip",
        "responseElements.allocationId", "arn:{partition}:ec2:{region}:{account}:elastic-ip/{id}", Ec2,
        ec2_tags!("elastic-ip")),
    // AMI ARNs have an empty account field; CopyImage logs in the target region.
    row("ec2.amazonaws.com", "CopyImage", "ec2:image",
        "responseElements.imageId", "arn:{partition}:ec2:{region}::image/{id}", Ec2, ec2_tags!("image")),
    row("ec2.amazonaws.com", "CreateCustomerGateway", "ec2:customer-gateway",
        "responseElements.customerGateway.customerGatewayId",
        "arn:{partition}:ec2:{region}:{account}:customer-gateway/{id}", Ec2, ec2_tags!("customer-gateway")),
    row("ec2.amazonaws.com", "CreateImage", "ec2:image",
        "responseElements.imageId", "arn:{partition}:ec2:{region}::image/{id}", Ec2, ec2_tags!("image")),
    row("ec2.amazonaws.com", "CreateInternetGateway", "ec2:internet-gateway",
        "responseElements.internetGateway.internetGatewayId",
        "arn:{partition}:ec2:{region}:{account}:internet-gateway/{id}", Ec2, ec2_tags!("internet-gateway")),
    // IAM's reference names key pairs by name (`key-pair/<name>`); the ARN
    // carries the `key-…` id instead because CreateTags accepts only the id.
    row("ec2.amazonaws.com", "CreateKeyPair", "ec2:key-pair",
        "responseElements.keyPairId", "arn:{partition}:ec2:{region}:{account}:key-pair/{id}", Ec2,
        ec2_tags!("key-pair")),
    row("ec2.amazonaws.com", "CreateLaunchTemplate", "ec2:launch-template",
        "responseElements.CreateLaunchTemplateResponse.launchTemplate.launchTemplateId",
        "arn:{partition}:ec2:{region}:{account}:launch-template/{id}", Ec2,
        ec2_xml_tags!("CreateLaunchTemplateRequest", "launch-template")),
    row("ec2.amazonaws.com", "CreateNatGateway", "ec2:natgateway",
        "responseElements.CreateNatGatewayResponse.natGateway.natGatewayId",
        "arn:{partition}:ec2:{region}:{account}:natgateway/{id}", Ec2,
        ec2_xml_tags!("CreateNatGatewayRequest", "natgateway")),
    row("ec2.amazonaws.com", "CreateNetworkAcl", "ec2:network-acl",
        "responseElements.networkAcl.networkAclId", "arn:{partition}:ec2:{region}:{account}:network-acl/{id}", Ec2,
        ec2_tags!("network-acl")),
    row("ec2.amazonaws.com", "CreateNetworkInterface", "ec2:network-interface",
        "responseElements.networkInterface.networkInterfaceId",
        "arn:{partition}:ec2:{region}:{account}:network-interface/{id}", Ec2, ec2_tags!("network-interface")),
    row("ec2.amazonaws.com", "CreateRouteTable", "ec2:route-table",
        "responseElements.routeTable.routeTableId", "arn:{partition}:ec2:{region}:{account}:route-table/{id}", Ec2,
        ec2_tags!("route-table")),
    row("ec2.amazonaws.com", "CreateSecurityGroup", "ec2:security-group",
        "responseElements.groupId", "arn:{partition}:ec2:{region}:{account}:security-group/{id}", Ec2,
        ec2_tags!("security-group")),
    // Snapshot ARNs have an empty account field.
    row("ec2.amazonaws.com", "CreateSnapshot", "ec2:snapshot",
        "responseElements.snapshotId", "arn:{partition}:ec2:{region}::snapshot/{id}", Ec2, ec2_tags!("snapshot")),
    row("ec2.amazonaws.com", "CreateSubnet", "ec2:subnet",
        "responseElements.subnet.subnetId", "arn:{partition}:ec2:{region}:{account}:subnet/{id}", Ec2,
        ec2_tags!("subnet")),
    row("ec2.amazonaws.com", "CreateTrafficMirrorFilter", "ec2:traffic-mirror-filter",
        "responseElements.CreateTrafficMirrorFilterResponse.trafficMirrorFilter.trafficMirrorFilterId",
        "arn:{partition}:ec2:{region}:{account}:traffic-mirror-filter/{id}", Ec2,
        ec2_xml_tags!("CreateTrafficMirrorFilterRequest", "traffic-mirror-filter")),
    row("ec2.amazonaws.com", "CreateTrafficMirrorTarget", "ec2:traffic-mirror-target",
        "responseElements.CreateTrafficMirrorTargetResponse.trafficMirrorTarget.trafficMirrorTargetId",
        "arn:{partition}:ec2:{region}:{account}:traffic-mirror-target/{id}", Ec2,
        ec2_xml_tags!("CreateTrafficMirrorTargetRequest", "traffic-mirror-target")),
    row("ec2.amazonaws.com", "CreateTransitGateway", "ec2:transit-gateway",
        "responseElements.CreateTransitGatewayResponse.transitGateway.transitGatewayArn", "{id}", Ec2,
        ec2_xml_tags!("CreateTransitGatewayRequest", "transit-gateway")),
    row("ec2.amazonaws.com", "CreateVolume", "ec2:volume",
        "responseElements.volumeId", "arn:{partition}:ec2:{region}:{account}:volume/{id}", Ec2, ec2_tags!("volume")),
    row("ec2.amazonaws.com", "CreateVpc", "ec2:vpc",
        "responseElements.vpc.vpcId", "arn:{partition}:ec2:{region}:{account}:vpc/{id}", Ec2, ec2_tags!("vpc")),
    row("ec2.amazonaws.com", "CreateVpcEndpoint", "ec2:vpc-endpoint",
        "responseElements.CreateVpcEndpointResponse.vpcEndpoint.vpcEndpointId",
        "arn:{partition}:ec2:{region}:{account}:vpc-endpoint/{id}", Ec2,
        ec2_xml_tags!("CreateVpcEndpointRequest", "vpc-endpoint")),
    row("ec2.amazonaws.com", "CreateVpcPeeringConnection", "ec2:vpc-peering-connection",
        "responseElements.vpcPeeringConnection.vpcPeeringConnectionId",
        "arn:{partition}:ec2:{region}:{account}:vpc-peering-connection/{id}", Ec2,
        ec2_tags!("vpc-peering-connection")),
    row("ec2.amazonaws.com", "CreateVpnGateway", "ec2:vpn-gateway",
        "responseElements.vpnGateway.vpnGatewayId", "arn:{partition}:ec2:{region}:{account}:vpn-gateway/{id}", Ec2,
        ec2_tags!("vpn-gateway")),
    row("ec2.amazonaws.com", "ImportKeyPair", "ec2:key-pair",
        "responseElements.keyPairId", "arn:{partition}:ec2:{region}:{account}:key-pair/{id}", Ec2,
        ec2_tags!("key-pair")),
    row("ec2.amazonaws.com", "RegisterImage", "ec2:image",
        "responseElements.imageId", "arn:{partition}:ec2:{region}::image/{id}", Ec2, ec2_tags!("image")),
    row("ec2.amazonaws.com", "RunInstances", "ec2:instance",
        "responseElements.instancesSet.items[].instanceId", "arn:{partition}:ec2:{region}:{account}:instance/{id}", Ec2,
        ec2_tags!("instance")),
    row("ecr.amazonaws.com", "CreateRepository", "ecr:repository",
        "responseElements.repository.repositoryArn", "{id}", ResourceGroups, RP_TAGS),
    row("ecs.amazonaws.com", "CreateCluster", "ecs:cluster",
        "responseElements.cluster.clusterArn", "{id}", ResourceGroups, RP_TAGS),
    row("eks.amazonaws.com", "CreateCluster", "eks:cluster",
        "responseElements.cluster.arn", "{id}", ResourceGroups, RP_TAGS),
    row("eks.amazonaws.com", "CreateNodegroup", "eks:nodegroup",
        "responseElements.nodegroup.nodegroupArn", "{id}", ResourceGroups, RP_TAGS),
    // ElastiCache logs the API's `ARN` member as `aRN`.
    row("elasticache.amazonaws.com", "CreateCacheCluster", "elasticache:cluster",
        "responseElements.aRN", "{id}", ResourceGroups, RP_TAGS),
    row("elasticache.amazonaws.com", "CreateReplicationGroup", "elasticache:replicationgroup",
        "responseElements.aRN", "{id}", ResourceGroups, RP_TAGS),
    row("elasticfilesystem.amazonaws.com", "CreateFileSystem", "elasticfilesystem:file-system",
        "responseElements.fileSystemArn", "{id}", ResourceGroups, RP_TAGS),
    // ELBv2 (apiVersion 2015-12-01) answers with the ARN. Classic ELB
    // (2012-06-01) logs the same eventName with only `dNSName` in the
    // response, so its name comes from the request instead.
    row("elasticloadbalancing.amazonaws.com", "CreateLoadBalancer", "elasticloadbalancing:loadbalancer",
        "responseElements.loadBalancers[].loadBalancerArn", "{id}", ResourceGroups, RP_TAGS)
        .or(&[("requestParameters.loadBalancerName",
               "arn:{partition}:elasticloadbalancing:{region}:{account}:loadbalancer/{id}")]),
    row("elasticloadbalancing.amazonaws.com", "CreateTargetGroup", "elasticloadbalancing:targetgroup",
        "responseElements.targetGroups[].targetGroupArn", "{id}", ResourceGroups, RP_TAGS),
    // OpenSearch (2021 API) and its Elasticsearch predecessor: same domain ARN.
    row("es.amazonaws.com", "CreateDomain", "es:domain",
        "responseElements.domainStatus.aRN", "{id}", ResourceGroups, &["requestParameters.tagList"]),
    row("es.amazonaws.com", "CreateElasticsearchDomain", "es:domain",
        "responseElements.domainStatus.aRN", "{id}", ResourceGroups, &["requestParameters.tagList"]),
    row("firehose.amazonaws.com", "CreateDeliveryStream", "firehose:deliverystream",
        "responseElements.deliveryStreamARN", "{id}", ResourceGroups, RP_TAGS),
    row("iam.amazonaws.com", "CreateInstanceProfile", "iam:instance-profile",
        "responseElements.instanceProfile.arn", "{id}", Iam, RP_TAGS),
    row("iam.amazonaws.com", "CreatePolicy", "iam:policy",
        "responseElements.policy.arn", "{id}", Iam, RP_TAGS),
    row("iam.amazonaws.com", "CreateRole", "iam:role",
        "responseElements.role.arn", "{id}", Iam, RP_TAGS),
    row("iam.amazonaws.com", "CreateUser", "iam:user",
        "responseElements.user.arn", "{id}", Iam, RP_TAGS),
    // MSK: provisioned-only (CreateCluster) and provisioned-or-serverless (V2).
    row("kafka.amazonaws.com", "CreateCluster", "kafka:cluster",
        "responseElements.clusterArn", "{id}", ResourceGroups, RP_TAGS),
    row("kafka.amazonaws.com", "CreateClusterV2", "kafka:cluster",
        "responseElements.clusterArn", "{id}", ResourceGroups, RP_TAGS),
    // responseElements is null: the stream name is all there is.
    row("kinesis.amazonaws.com", "CreateStream", "kinesis:stream",
        "requestParameters.streamName", "arn:{partition}:kinesis:{region}:{account}:stream/{id}", ResourceGroups,
        RP_TAGS),
    row("kms.amazonaws.com", "CreateKey", "kms:key",
        "responseElements.keyMetadata.arn", "{id}", ResourceGroups, RP_TAGS),
    row("lambda.amazonaws.com", "CreateFunction20150331", "lambda:function",
        "responseElements.functionArn", "{id}", ResourceGroups, RP_TAGS),
    // responseElements is null. The tagging API's log-group ARN has no `:*`.
    row("logs.amazonaws.com", "CreateLogGroup", "logs:log-group",
        "requestParameters.logGroupName", "arn:{partition}:logs:{region}:{account}:log-group:{id}", ResourceGroups,
        RP_TAGS),
    row("rds.amazonaws.com", "CreateDBCluster", "rds:cluster",
        "responseElements.dBClusterArn", "{id}", ResourceGroups, RP_TAGS),
    row("rds.amazonaws.com", "CreateDBClusterSnapshot", "rds:cluster-snapshot",
        "responseElements.dBClusterSnapshotArn", "{id}", ResourceGroups, RP_TAGS),
    // Records from before `dBInstanceArn` was logged (2016, eventVersion
    // 1.03) name the instance only: its ARN is built from the identifier.
    row("rds.amazonaws.com", "CreateDBInstance", "rds:db",
        "responseElements.dBInstanceArn", "{id}", ResourceGroups, RP_TAGS)
        .or(&[("responseElements.dBInstanceIdentifier",
               "arn:{partition}:rds:{region}:{account}:db:{id}")]),
    row("rds.amazonaws.com", "CreateDBInstanceReadReplica", "rds:db",
        "responseElements.dBInstanceArn", "{id}", ResourceGroups, RP_TAGS),
    row("rds.amazonaws.com", "CreateDBSnapshot", "rds:snapshot",
        "responseElements.dBSnapshotArn", "{id}", ResourceGroups, RP_TAGS),
    // The response describes the cluster but carries no ARN.
    row("redshift.amazonaws.com", "CreateCluster", "redshift:cluster",
        "responseElements.clusterIdentifier", "arn:{partition}:redshift:{region}:{account}:cluster:{id}",
        ResourceGroups, RP_TAGS),
    row("rolesanywhere.amazonaws.com", "CreateProfile", "rolesanywhere:profile",
        "responseElements.profile.profileArn", "{id}", ResourceGroups, RP_TAGS),
    row("rolesanywhere.amazonaws.com", "CreateTrustAnchor", "rolesanywhere:trust-anchor",
        "responseElements.trustAnchor.trustAnchorArn", "{id}", ResourceGroups, RP_TAGS),
    // CreateBucket takes no tags; responseElements is null.
    row("s3.amazonaws.com", "CreateBucket", "s3:bucket",
        "requestParameters.bucketName", "arn:{partition}:s3:::{id}", S3Bucket, NO_TAGS),
    row("secretsmanager.amazonaws.com", "CreateSecret", "secretsmanager:secret",
        "responseElements.arn", "{id}", ResourceGroups, RP_TAGS),
    row("sns.amazonaws.com", "CreateTopic", "sns:topic",
        "responseElements.topicArn", "{id}", ResourceGroups, RP_TAGS),
    row("sqs.amazonaws.com", "CreateQueue", "sqs:queue",
        "responseElements.queueUrl", "arn:{partition}:sqs:{region}:{account}:{id_tail}", ResourceGroups, RP_TAGS),
    row("states.amazonaws.com", "CreateStateMachine", "states:stateMachine",
        "responseElements.stateMachineArn", "{id}", ResourceGroups, RP_TAGS),
];
