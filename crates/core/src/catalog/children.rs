//! Resources an event creates beside those its row names, which have no
//! event of their own (design.md, "The person behind the role"): an
//! instance's network interfaces, a NAT gateway's, an EKS cluster's
//! security group. They are the event's creator's, like their parent.
//! Volumes are not in the launch's response: the apply stage reads them
//! ([`UNNAMED`]).

use super::path::Path;
use super::{arn_for, collect_tags, find, resource_type, Record, Resource, Scope, TaggingApi};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// One kind of child an event's response names.
#[derive(Debug)]
pub struct Child {
    pub source: &'static str,
    pub name: &'static str,
    /// Path to the children's ids.
    pub ids: &'static str,
    /// A type the catalog knows, which gives the ARN and the tagging API.
    pub resource_type: &'static str,
    /// Tags the creator set for this type in the create call.
    pub tags: &'static [&'static str],
    /// Ids the request itself named: resources that existed before the
    /// call (an interface attached at launch), not its children.
    pub existing: &'static [&'static str],
}

const ENI_TAGS: &[&str] =
    &["requestParameters.tagSpecificationSet.items[resourceType=network-interface].tags"];

#[rustfmt::skip]
pub static CHILDREN: &[Child] = &[
    Child { source: "ec2.amazonaws.com", name: "CreateNatGateway",
        ids: "responseElements.CreateNatGatewayResponse.natGateway.natGatewayAddressSet.item.networkInterfaceId",
        resource_type: "ec2:network-interface", tags: &[], existing: &[] },
    Child { source: "ec2.amazonaws.com", name: "CreateNatGateway",
        ids: "responseElements.CreateNatGatewayResponse.natGateway.natGatewayAddressSet.item[].networkInterfaceId",
        resource_type: "ec2:network-interface", tags: &[], existing: &[] },
    Child { source: "ec2.amazonaws.com", name: "RunInstances",
        ids: "responseElements.instancesSet.items[].networkInterfaceSet.items[].networkInterfaceId",
        resource_type: "ec2:network-interface", tags: ENI_TAGS,
        existing: &["requestParameters.networkInterfaceSet.items[].networkInterfaceId"] },
    Child { source: "eks.amazonaws.com", name: "CreateCluster",
        ids: "responseElements.cluster.resourcesVpcConfig.clusterSecurityGroupId",
        resource_type: "ec2:security-group", tags: &[], existing: &[] },
];

/// Children an event creates that its response does not name: read once
/// when the parent is tagged, a batch of parents per read.
#[derive(Debug)]
pub struct Unnamed {
    pub source: &'static str,
    pub name: &'static str,
    pub resource_type: &'static str,
    pub tags: &'static [&'static str],
}

#[rustfmt::skip]
pub static UNNAMED: &[Unnamed] = &[
    // An instance's EBS volumes attach while it starts.
    Unnamed { source: "ec2.amazonaws.com", name: "RunInstances", resource_type: "ec2:volume",
        tags: &["requestParameters.tagSpecificationSet.items[resourceType=volume].tags"] },
];

/// What the apply stage reads and tags beside a parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unread {
    pub resource_type: &'static str,
    pub api: TaggingApi,
    /// Tags the creator set for these children in the create call.
    pub preset_tags: BTreeMap<String, String>,
}

/// The children of `record`'s resources that the apply stage must read.
pub fn unread(source: &str, name: &str, record: &Record<'_>) -> Option<Unread> {
    let u = UNNAMED
        .iter()
        .find(|u| u.source == source && u.name == name)?;
    let (resource_type, api) = resource_type(u.resource_type)?;
    let mut preset_tags = BTreeMap::new();
    for path in u.tags.iter().filter_map(|t| Path::parse(t).ok()) {
        for v in find(record, &path) {
            collect_tags(v, &mut preset_tags);
        }
    }
    Some(Unread {
        resource_type,
        api,
        preset_tags,
    })
}

/// A child resource an event created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    pub resource_type: &'static str,
    pub api: TaggingApi,
    pub resource: Resource,
    pub preset_tags: BTreeMap<String, String>,
}

/// A row's paths: ids, tags, ids of what existed before.
type Paths = (Path, Vec<Path>, Vec<Path>);

fn compiled() -> &'static [Paths] {
    static COMPILED: OnceLock<Vec<Paths>> = OnceLock::new();
    let all = |paths: &[&str]| -> Vec<Path> {
        paths
            .iter()
            .map(|t| Path::parse(t).expect("child paths parse (tested)"))
            .collect()
    };
    COMPILED.get_or_init(|| {
        CHILDREN
            .iter()
            .map(|c| {
                let ids = Path::parse(c.ids).expect("child paths parse (tested)");
                (ids, all(c.tags), all(c.existing))
            })
            .collect()
    })
}

/// The children of the resources `record` created; none when the response
/// names none (a NAT gateway's interface may come only later).
pub fn of(source: &str, name: &str, record: &Record<'_>, scope: &Scope<'_>) -> Vec<Made> {
    let mut out = Vec::new();
    for (child, (ids, tags, existing)) in CHILDREN.iter().zip(compiled()) {
        if child.source != source || child.name != name {
            continue;
        }
        let Some((resource_type, api)) = resource_type(child.resource_type) else {
            continue;
        };
        let mut preset = BTreeMap::new();
        for path in tags {
            for v in find(record, path) {
                collect_tags(v, &mut preset);
            }
        }
        let before: Vec<&str> = existing
            .iter()
            .flat_map(|p| find(record, p))
            .filter_map(|v| v.as_str())
            .collect();
        let ids = find(record, ids).into_iter().filter_map(|v| v.as_str());
        for id in ids.filter(|id| !before.contains(id)) {
            let Some(arn) = arn_for(resource_type, id, scope) else {
                continue;
            };
            out.push(Made {
                resource_type,
                api,
                resource: Resource {
                    arn,
                    account: scope.account.to_string(),
                    region: scope.region.to_string(),
                },
                preset_tags: preset.clone(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;

    #[test]
    fn every_child_is_of_a_catalogued_type_from_a_catalogued_event() {
        assert_eq!(compiled().len(), CHILDREN.len());
        for c in CHILDREN {
            assert!(resource_type(c.resource_type).is_some(), "{c:?}");
            assert!(
                lookup(c.source.as_bytes(), c.name.as_bytes()).is_some(),
                "{c:?}"
            );
            assert!(c.ids.starts_with("responseElements."), "{c:?}");
        }
        for u in UNNAMED {
            assert!(resource_type(u.resource_type).is_some(), "{u:?}");
            assert!(
                lookup(u.source.as_bytes(), u.name.as_bytes()).is_some(),
                "{u:?}"
            );
            assert!(u.tags.iter().all(|t| Path::parse(t).is_ok()), "{u:?}");
        }
    }

    #[test]
    fn an_instances_interfaces_are_its_children_with_their_own_preset_tags() {
        let rec = Record::parse(
            br#"{"requestParameters":{"networkInterfaceSet":{"items":[{"networkInterfaceId":"eni-old","deviceIndex":1}]},
                 "tagSpecificationSet":{"items":[
                    {"resourceType":"instance","tags":[{"key":"Name","value":"web"}]},
                    {"resourceType":"network-interface","tags":[{"key":"team","value":"net"}]}]}},
                 "responseElements":{"instancesSet":{"items":[
                    {"instanceId":"i-1","networkInterfaceSet":{"items":[{"networkInterfaceId":"eni-1"},{"networkInterfaceId":"eni-2"}]}},
                    {"instanceId":"i-2","networkInterfaceSet":{"items":[{"networkInterfaceId":"eni-3"},{"networkInterfaceId":"eni-old"}]}}]}}}"#,
        )
        .unwrap();
        let scope = Scope {
            partition: "aws",
            region: "us-east-1",
            account: "111122223333",
        };
        let made = of("ec2.amazonaws.com", "RunInstances", &rec, &scope);
        let arns: Vec<_> = made.iter().map(|m| m.resource.arn.as_str()).collect();
        assert_eq!(
            arns,
            [
                "arn:aws:ec2:us-east-1:111122223333:network-interface/eni-1",
                "arn:aws:ec2:us-east-1:111122223333:network-interface/eni-2",
                "arn:aws:ec2:us-east-1:111122223333:network-interface/eni-3",
            ]
        );
        assert_eq!(made[0].api, TaggingApi::Ec2);
        assert_eq!(made[0].resource_type, "ec2:network-interface");
        assert_eq!(
            made[0].preset_tags,
            BTreeMap::from([("team".to_string(), "net".to_string())])
        );
        // `eni-old` existed before: the request attached it.
        // A NAT gateway whose interface is not in the response: none.
        assert!(of("ec2.amazonaws.com", "CreateNatGateway", &rec, &scope).is_empty());
    }
}
