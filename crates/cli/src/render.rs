//! plan → what a person or a program reads.

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, ColumnConstraint, ContentArrangement, Table, Width,
};
use std::collections::BTreeMap;
use std::io::{self, Write};
use tagwarden_core::pipeline::Stats;
use tagwarden_core::plan::{Plan, PlanItem};

/// The last segment of an ARN's resource part: the id a person recognises.
fn short_id(arn: &str) -> &str {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    resource.rsplit(['/', ':']).next().unwrap_or(resource)
}

fn short_creator(item: &PlanItem) -> String {
    let who = short_id(&item.creator.arn);
    format!("{}\n{}", who, item.creator.kind.as_str())
}

/// An 80-column table: one row per resource, then the tags it writes.
pub fn plan_table(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    if plan.items.is_empty() {
        return writeln!(out, "Nothing to tag.");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(80)
        .set_header(["RESOURCE / TYPE", "ACCOUNT / REGION", "CREATED BY"]);
    // Ids and regions read badly when wrapped; the creator takes what is left.
    if let Some(c) = t.column_mut(0) {
        c.set_constraint(ColumnConstraint::Boundaries {
            lower: Width::Fixed(20),
            upper: Width::Fixed(40),
        });
    }
    if let Some(c) = t.column_mut(1) {
        c.set_constraint(ColumnConstraint::ContentWidth);
    }
    let mut keys: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &plan.items {
        for k in item.tags.keys() {
            *keys.entry(k.as_str()).or_default() += 1;
        }
        t.add_row([
            format!("{}\n{}", short_id(&item.arn), item.resource_type),
            format!("{}\n{}", item.account, item.region),
            short_creator(item),
        ]);
    }
    writeln!(out, "{t}")?;
    let keys: Vec<String> = keys
        .into_iter()
        .map(|(k, n)| {
            if n == plan.items.len() {
                k.to_string()
            } else {
                format!("{k} ({n})")
            }
        })
        .collect();
    writeln!(out, "Tags to write: {}", keys.join(", "))
}

/// The `plan --format json` contract: one array, one element per resource.
pub fn plan_json(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &plan.items)?;
    writeln!(out)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The run's summary, for stderr.
pub fn summary(plan: &Plan, stats: &Stats) -> String {
    let skipped: Vec<String> = stats
        .skipped
        .iter()
        .map(|(why, n)| format!("{} {}", why.as_str(), thousands(*n)))
        .collect();
    let limit = if plan.over_limit > 0 {
        format!(
            ", {} at AWS's 50-tag limit (some policy tags not planned)",
            thousands(plan.over_limit)
        )
    } else {
        String::new()
    };
    format!(
        "plan: {} resources to tag, {} already tagged by their creator{limit}\n\
         read: {} documents, {:.1} MB, {} records, {} creations; skipped: {}; {} errors",
        thousands(plan.items.len() as u64),
        thousands(plan.already_tagged),
        thousands(stats.documents),
        stats.bytes as f64 / 1e6,
        thousands(stats.records),
        thousands(stats.creations),
        if skipped.is_empty() {
            "none".to_string()
        } else {
            skipped.join(", ")
        },
        thousands(stats.errors),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_are_the_last_segment() {
        assert_eq!(
            short_id("arn:aws:ec2:us-east-1:1:instance/i-0abc"),
            "i-0abc"
        );
        assert_eq!(short_id("arn:aws:s3:::my-bucket"), "my-bucket");
        assert_eq!(short_id("arn:aws:lambda:us-east-1:1:function:fn"), "fn");
        assert_eq!(short_id("arn:aws:iam::1:role/service-role/r"), "r");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
