//! Who may speak: the accounts whose records are taken, the account a log
//! object's key vouches for, and the principals a direct invocation may
//! name. The rules are pure; each face says what is in scope
//! (`docs/threat-model.md` maps them to the threats they answer).

use crate::catalog::is_account_id;
use std::collections::BTreeSet;

/// Accounts whose records are taken. A record of any other account is
/// refused with the reason: a log or event planted for a foreign account
/// must change nothing here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Accounts {
    /// Every account the input names: the CLI without `--accounts`, whose
    /// operator chose the logs, and an organization, whose entry points
    /// (bus policy, organization trail) admit only its members.
    #[default]
    Any,
    Only(BTreeSet<String>),
}

impl Accounts {
    pub fn only<S: Into<String>>(ids: impl IntoIterator<Item = S>) -> Self {
        Self::Only(ids.into_iter().map(Into::into).collect())
    }

    pub fn admits(&self, account: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Only(ids) => ids.contains(account),
        }
    }

    /// Why `account` is refused, if it is.
    pub fn refusal(&self, account: &str) -> Option<String> {
        (!self.admits(account))
            .then(|| format!("account `{account}` is outside the accounts in scope: refused"))
    }
}

/// The `YYYY-MM-DD` of a CloudTrail key: the three numeric segments after
/// `CloudTrail/<region>/`.
pub fn log_key_date(key: &str) -> Option<String> {
    let (_, after) = key
        .split_once("/CloudTrail/")
        .or_else(|| key.strip_prefix("CloudTrail/").map(|rest| ("", rest)))?;
    let mut parts = after.split('/').skip(1);
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let numeric = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(y, 4) && numeric(m, 2) && numeric(d, 2)).then(|| format!("{y}-{m}-{d}"))
}

/// The account a CloudTrail object's key names:
/// `[prefix/]AWSLogs/<account>/CloudTrail/…`, or
/// `[prefix/]AWSLogs/<org-id>/<account>/CloudTrail/…` for an organization
/// trail. CloudTrail writes each account's records under its own key, so
/// a record of another account in that object was not put there by it.
pub fn log_key_account(key: &str) -> Option<&str> {
    let parts: Vec<&str> = key.split('/').collect();
    let at = parts
        .iter()
        .rposition(|p| p.starts_with("CloudTrail"))
        .filter(|&i| i >= 2)?;
    let account = parts[at - 1];
    let anchored = match parts[at - 2] {
        "AWSLogs" => true,
        org if org.starts_with("o-") => at >= 3 && parts[at - 3] == "AWSLogs",
        _ => false,
    };
    (anchored && is_account_id(account)).then_some(account)
}

/// Checks a direct invocation's `user`: an IAM user, role or root, or an
/// STS session (assumed role, federated user), of an account in scope.
/// Anything else would let an invoker write free text into `CreatedBy`.
pub fn principal(arn: &str, accounts: &Accounts) -> Result<(), String> {
    let bad = |why: &str| Err(format!("`user` `{arn}`: {why}"));
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [scheme, partition, service, region, account, resource] = fields[..] else {
        return bad("not an ARN");
    };
    if scheme != "arn" || !partition.starts_with("aws") || !region.is_empty() {
        return bad("not an IAM or STS ARN");
    }
    let kind = resource.split('/').next().unwrap_or_default();
    let named = resource.split('/').nth(1).is_some_and(|n| !n.is_empty());
    let ok = match (service, kind) {
        ("iam", "root") => resource == "root",
        ("iam", "user" | "role") | ("sts", "assumed-role" | "federated-user") => named,
        _ => false,
    };
    if !ok {
        return bad("not an IAM user, role or root, or an STS session");
    }
    if !is_account_id(account) {
        return bad("its account is not a 12-digit id");
    }
    match accounts.refusal(account) {
        Some(why) => bad(&why),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_key_names_its_account() {
        for (key, want) in [
            (
                "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/15/x.json.gz",
                Some("111122223333"),
            ),
            (
                "trail/AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/01/15/x.json.gz",
                Some("111122223333"),
            ),
            (
                "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/x.json.gz",
                Some("111122223333"),
            ),
            ("uploads/111122223333/CloudTrail/x.json.gz", None),
            ("AWSLogs/alice/CloudTrail/x.json.gz", None),
            ("AWSLogs/o-abc/CloudTrail/x.json.gz", None),
            ("x.json.gz", None),
        ] {
            assert_eq!(log_key_account(key), want, "{key}");
        }
    }

    #[test]
    fn a_direct_user_is_a_principal_of_an_account_in_scope() {
        let scope = Accounts::only(["111122223333"]);
        for ok in [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/path/alice",
            "arn:aws:iam::111122223333:role/Deployer",
            "arn:aws:iam::111122223333:root",
            "arn:aws:sts::111122223333:assumed-role/Deployer/alice",
            "arn:aws-us-gov:sts::111122223333:federated-user/bob",
        ] {
            assert_eq!(principal(ok, &scope), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("alice", "not an ARN"),
            ("Owner=admin", "not an ARN"),
            ("arn:aws:s3:::bucket/x:y", "not an IAM user"),
            (
                "arn:aws:iam:us-east-1:111122223333:user/a",
                "not an IAM or STS ARN",
            ),
            ("arn:aws:iam::111122223333:group/admins", "not an IAM user"),
            ("arn:aws:iam::111122223333:user/", "not an IAM user"),
            ("arn:aws:iam::111122223333:rooted", "not an IAM user"),
            ("arn:aws:iam::1111:user/alice", "12-digit"),
            (
                "arn:aws:iam::999988887777:user/mallory",
                "outside the accounts in scope",
            ),
        ] {
            let e = principal(bad, &scope).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert_eq!(
            principal("arn:aws:iam::999988887777:user/x", &Accounts::Any),
            Ok(())
        );
    }
}
