//! plan and apply outcomes → what a person or a program reads.

use comfy_table::{
    presets::UTF8_FULL_CONDENSED, ColumnConstraint, ContentArrangement, Table, Width,
};
use std::collections::BTreeMap;
use std::io::{self, Write};
use tagwarden_aws::apply::{Outcome, Status};
use tagwarden_aws::calls::{is_write, CallCounts};
use tagwarden_core::overview::{Overview, SECTIONS};
use tagwarden_core::pipeline::Stats;
use tagwarden_core::plan::{Plan, PlanItem};

/// Writes what `render` prints without control characters but newlines:
/// event data (a tag value, a user agent) reaches a terminal here, and an
/// escape sequence in it must not move the cursor or rewrite the screen.
fn printable(
    out: &mut dyn Write,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut text = Vec::new();
    render(&mut text)?;
    let clean: String = String::from_utf8_lossy(&text)
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    out.write_all(clean.as_bytes())
}

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
    printable(out, |out| plan_table_raw(plan, &plan.items, out))
}

/// Rows a plan shown on a terminal holds at most; a larger one is
/// summarised, as no one reads a million rows before a question.
pub const TERMINAL_ROWS: usize = 200;

/// Rows of a summarised plan shown as they are.
pub const FIRST_ROWS: usize = 20;

/// The plan for a terminal: whole up to [`TERMINAL_ROWS`], else counts per
/// service, region, account and creator, the first rows, and where the
/// whole plan is. Elsewhere (a pipe, a file) the table is whole.
pub fn plan_for(plan: &Plan, terminal: bool, out: &mut dyn Write) -> io::Result<()> {
    if !terminal || plan.items.len() <= TERMINAL_ROWS {
        return plan_table(plan, out);
    }
    let whole = "the whole plan with --format json, or with the table sent to a file (> plan.txt)";
    overview(&Overview::of(plan, FIRST_ROWS), whole, out)
}

/// Where a plan too large to hold is to be seen whole.
pub const WHOLE_PLAN_AGAIN: &str =
    "`tagwarden plan` with the same sources and --format json lists them all";

/// A plan too large to show: counts per service, region, account and
/// creator, the first rows, and where the whole plan is.
pub fn overview(o: &Overview, whole: &str, out: &mut dyn Write) -> io::Result<()> {
    printable(out, |out| overview_raw(o, whole, out))
}

fn overview_raw(o: &Overview, whole: &str, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} resources to tag.", o.resources)?;
    for (i, what) in SECTIONS.iter().enumerate() {
        let counts = o.section(i);
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(80)
            .set_header([what.to_uppercase(), "RESOURCES".to_string()]);
        for (k, c) in counts.iter().take(10) {
            t.add_row([k.to_string(), c.to_string()]);
        }
        if counts.len() > 10 {
            let rest: u64 = counts[10..].iter().map(|(_, c)| c).sum();
            t.add_row([format!("{} more", counts.len() - 10), rest.to_string()]);
        }
        writeln!(out, "{t}")?;
    }
    writeln!(out, "The first {}:", o.first.len())?;
    items_table(&o.first, &o.keys, o.resources, out)?;
    writeln!(
        out,
        "{} more not shown: {whole}.",
        o.resources.saturating_sub(o.first.len() as u64)
    )
}

fn plan_table_raw(plan: &Plan, items: &[PlanItem], out: &mut dyn Write) -> io::Result<()> {
    let mut keys: BTreeMap<String, u64> = BTreeMap::new();
    for item in &plan.items {
        for k in item.tags.keys() {
            *keys.entry(k.as_str().to_string()).or_default() += 1;
        }
    }
    items_table(items, &keys, plan.items.len() as u64, out)
}

/// `items`, then the tag keys written and on how many of `total`
/// resources where not on all.
fn items_table(
    items: &[PlanItem],
    keys: &BTreeMap<String, u64>,
    total: u64,
    out: &mut dyn Write,
) -> io::Result<()> {
    if items.is_empty() {
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
    for item in items {
        t.add_row([
            format!("{}\n{}", short_id(&item.arn), item.resource_type),
            format!("{}\n{}", item.account, item.region),
            short_creator(item),
        ]);
    }
    writeln!(out, "{t}")?;
    let keys: Vec<String> = keys
        .iter()
        .map(|(k, &n)| match n == total {
            true => k.clone(),
            false => format!("{k} ({n})"),
        })
        .collect();
    writeln!(out, "Tags to write: {}", keys.join(", "))
}

/// `scan --remediate`'s plan: each resource and exactly the tags it gets.
pub fn remediation_table(items: &[PlanItem], out: &mut dyn Write) -> io::Result<()> {
    if items.is_empty() {
        return writeln!(out, "Remediation: nothing to add.");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(80)
        .set_header(["RESOURCE / TYPE", "ACCOUNT / REGION", "TAGS TO ADD"]);
    if let Some(c) = t.column_mut(1) {
        c.set_constraint(ColumnConstraint::ContentWidth);
    }
    for item in items {
        let tags: Vec<String> = item
            .tags
            .iter()
            .map(|(k, v)| format!("{}={}", k.as_str(), v.as_str()))
            .collect();
        t.add_row([
            format!("{}\n{}", short_id(&item.arn), item.resource_type),
            format!("{}\n{}", item.account, item.region),
            tags.join("\n"),
        ]);
    }
    writeln!(out, "Remediation plan: {} resources\n{t}", items.len())
}

/// `verify`'s verdicts: invalid files first, each with why.
pub fn verify_table(
    verdicts: &[tagwarden_core::digest::Verdict],
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(100)
        .set_header(["FILE", "KIND", "VERDICT"]);
    let mut sorted: Vec<_> = verdicts.iter().collect();
    sorted.sort_by_key(|v| v.problem.is_none());
    for v in sorted {
        t.add_row([
            v.url(),
            crate::verify::kind(v.kind).to_string(),
            match &v.problem {
                None => "valid".to_string(),
                Some(p) => format!("INVALID: {p}"),
            },
        ]);
    }
    printable(out, |o| writeln!(o, "{t}"))
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
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The run's summary, for stderr.
pub fn summary(plan: &Overview, stats: &Stats) -> String {
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
         read: {} documents, {:.1} MB, {} records, {} creations, {} tag calls; skipped: {}; {} errors",
        thousands(plan.resources),
        thousands(plan.already_tagged),
        thousands(stats.documents),
        stats.bytes as f64 / 1e6,
        thousands(stats.records),
        thousands(stats.creations),
        thousands(stats.tag_changes),
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

    /// A plan of `n` instances, by two creators in two regions.
    fn big_plan(n: usize) -> Plan {
        use tagwarden_core::pipeline::{read_all, Found};
        let records: Vec<String> = (0..n)
            .map(|i| {
                let (who, region) = match i % 3 {
                    0 => ("alice", "us-east-1"),
                    _ => ("bob", "eu-west-1"),
                };
                format!(
                    r#"{{"eventVersion":"1.08","eventTime":"2026-01-15T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"{region}","eventID":"e{i}","eventType":"AwsApiCall","readOnly":false,"managementEvent":true,"recipientAccountId":"111122223333","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/{who}","accountId":"111122223333"}},"requestParameters":{{}},"responseElements":{{"instancesSet":{{"items":[{{"instanceId":"i-{i:08}"}}]}}}}}}"#
                )
            })
            .collect();
        let log = format!(r#"{{"Records":[{}]}}"#, records.join(","));
        let (found, _) = read_all("big", log.as_bytes());
        let policy = tagwarden_core::policy::Policy::default_policy();
        let mut planner = tagwarden_core::plan::Planner::new(&policy);
        for f in found {
            if let Found::Creation(c) = f {
                planner.add(&c);
            }
        }
        planner.finish()
    }

    /// Issue 19, point 6: a plan too large to read is summarised on a
    /// terminal, never elsewhere.
    #[test]
    fn a_big_plan_is_summarised_on_a_terminal_only() {
        let plan = big_plan(TERMINAL_ROWS + 1);
        let show = |terminal: bool| {
            let mut out = Vec::new();
            plan_for(&plan, terminal, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let summary = show(true);
        assert!(summary.starts_with("201 resources to tag."), "{summary}");
        for want in [
            "SERVICE",
            "ec2",
            "201",
            "REGION",
            "eu-west-1",
            "134",
            "us-east-1",
            "67",
            "ACCOUNT",
            "111122223333",
            "CREATOR",
            "arn:aws:iam::111122223333:user/bob",
            "The first 20:",
            "181 more not shown",
            "--format json",
        ] {
            assert!(summary.contains(want), "{want}: {summary}");
        }
        // The first rows, in the plan's order (by ARN).
        let id = |i: usize| short_id(&plan.items[i].arn).to_string();
        assert!(summary.contains(&id(FIRST_ROWS - 1)), "{summary}");
        assert!(!summary.contains(&id(FIRST_ROWS)), "{summary}");
        let whole = show(false);
        assert!(whole.contains("i-00000200") && !whole.contains("resources to tag."));
        let small = big_plan(TERMINAL_ROWS);
        let mut out = Vec::new();
        plan_for(&small, true, &mut out).unwrap();
        assert!(String::from_utf8(out).unwrap().contains("i-00000199"));
    }

    #[test]
    fn json_cells_are_empty_for_empty_lists_and_maps_only() {
        assert_eq!(json_cell(&Vec::<String>::new()), "");
        assert_eq!(json_cell(&BTreeMap::<String, String>::new()), "");
        assert_eq!(json_cell(&["Owner"]), r#"["Owner"]"#);
        assert_eq!(
            json_cell(&BTreeMap::from([("Env", "prod")])),
            r#"{"Env":"prod"}"#
        );
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_made_inert() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            (
                "arn:aws:ec2:us-east-1:1:instance/i-1",
                "arn:aws:ec2:us-east-1:1:instance/i-1",
            ),
            ("", ""),
        ] {
            assert_eq!(inert_cell(cell.to_string()), want, "{cell:?}");
        }
    }

    #[test]
    fn terminal_tables_carry_no_control_characters() {
        let mut out = Vec::new();
        printable(&mut out, |o| writeln!(o, "a\u{1b}[2Jb\u{9b}c\td")).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a[2Jbcd\n");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}

/// Outcome counts for one (service, region).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub tagged: u64,
    pub would_tag: u64,
    pub already_tagged: u64,
    pub full: u64,
    pub failed: u64,
    /// Being created: the CLI waits, then tries again.
    pub pending: u64,
}

impl Counts {
    fn add(&mut self, status: &Status) {
        match status {
            Status::Tagged => self.tagged += 1,
            Status::WouldTag => self.would_tag += 1,
            Status::AlreadyTagged => self.already_tagged += 1,
            Status::Full => self.full += 1,
            Status::Failed { .. } => self.failed += 1,
            Status::Waiting { .. } => self.pending += 1,
        }
    }
}

fn service(resource_type: &str) -> &str {
    resource_type.split(':').next().unwrap_or(resource_type)
}

/// Outcomes counted per (service, region), added part by part.
#[derive(Debug, Default)]
pub struct Tally {
    by: BTreeMap<(&'static str, String), Counts>,
}

impl Tally {
    pub fn add(&mut self, outcomes: &[Outcome]) {
        for o in outcomes {
            let key = (service(o.resource_type), o.region.clone());
            self.by.entry(key).or_default().add(&o.status);
        }
    }

    fn totals(&self) -> Counts {
        let mut t = Counts::default();
        for c in self.by.values() {
            t.tagged += c.tagged;
            t.would_tag += c.would_tag;
            t.already_tagged += c.already_tagged;
            t.full += c.full;
            t.failed += c.failed;
            t.pending += c.pending;
        }
        t
    }
}

/// `apply`'s table: outcomes per service and region, then the calls made.
pub fn apply_table(tally: &Tally, calls: &CallCounts, out: &mut dyn Write) -> io::Result<()> {
    printable(out, |out| apply_table_raw(tally, calls, out))
}

fn apply_table_raw(tally: &Tally, calls: &CallCounts, out: &mut dyn Write) -> io::Result<()> {
    if tally.by.is_empty() {
        return writeln!(out, "Nothing to apply.");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(80)
        .set_header([
            "SERVICE",
            "REGION",
            "TAGGED",
            "WOULD TAG",
            "ALREADY",
            "FULL",
            "FAILED",
        ]);
    for ((svc, region), c) in &tally.by {
        t.add_row([
            svc.to_string(),
            region.to_string(),
            c.tagged.to_string(),
            c.would_tag.to_string(),
            c.already_tagged.to_string(),
            c.full.to_string(),
            c.failed.to_string(),
        ]);
    }
    writeln!(out, "{t}")?;
    if !calls.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_header(["SERVICE", "API CALL", "CALLS"]);
        for ((svc, op), n) in calls {
            t.add_row([svc.clone(), op.clone(), n.to_string()]);
        }
        writeln!(out, "{t}")?;
    }
    Ok(())
}

#[derive(serde::Serialize)]
struct CallRow<'a> {
    service: &'a str,
    operation: &'a str,
    calls: u64,
    write: bool,
}

/// `apply --format json`: one object holding every resource's outcome,
/// the totals and the API calls made (attempts, retries included),
/// written as the outcomes come so that none is held longer than its part.
pub struct ApplyJson {
    first: bool,
}

impl ApplyJson {
    pub fn begin(out: &mut dyn Write) -> io::Result<Self> {
        out.write_all(b"{\n  \"resources\": [")?;
        Ok(Self { first: true })
    }

    pub fn add(&mut self, outcomes: &[Outcome], out: &mut dyn Write) -> io::Result<()> {
        for o in outcomes {
            out.write_all(if self.first { b"\n    " } else { b",\n    " })?;
            serde_json::to_writer(&mut *out, o)?;
            self.first = false;
        }
        Ok(())
    }

    pub fn end(self, tally: &Tally, calls: &CallCounts, out: &mut dyn Write) -> io::Result<()> {
        let calls: Vec<CallRow<'_>> = calls
            .iter()
            .map(|((service, operation), &n)| CallRow {
                service,
                operation,
                calls: n,
                write: is_write(operation),
            })
            .collect();
        out.write_all(if self.first { b"],\n" } else { b"\n  ],\n" })?;
        out.write_all(b"  \"summary\": ")?;
        serde_json::to_writer(&mut *out, &tally.totals())?;
        out.write_all(b",\n  \"api_calls\": ")?;
        serde_json::to_writer(&mut *out, &calls)?;
        out.write_all(b"\n}\n")
    }
}

/// One line for stderr.
pub fn apply_summary(tally: &Tally, calls: &CallCounts, dry_run: bool) -> String {
    let c = tally.totals();
    let (mut writes, mut reads) = (0, 0);
    for ((_, op), n) in calls {
        if is_write(op) {
            writes += n;
        } else {
            reads += n;
        }
    }
    let done = if dry_run {
        format!("{} would be tagged", thousands(c.would_tag))
    } else {
        format!("{} tagged", thousands(c.tagged))
    };
    format!(
        "{done}, {} already tagged, {} at the tag limit, {} failed; API calls: {} writes, {} reads",
        thousands(c.already_tagged),
        thousands(c.full),
        thousands(c.failed),
        thousands(writes),
        thousands(reads)
    )
}

/// `tagwarden history ARN`: who created it, what tagwarden knows of its
/// tags, then every entry in time order.
pub fn history_table(
    arn: &str,
    h: &tagwarden_store::model::ResourceHistory,
    out: &mut dyn Write,
) -> io::Result<()> {
    printable(out, |out| history_table_raw(arn, h, out))
}

fn history_table_raw(
    arn: &str,
    h: &tagwarden_store::model::ResourceHistory,
    out: &mut dyn Write,
) -> io::Result<()> {
    use tagwarden_store::model::Change;
    writeln!(out, "{arn}")?;
    if let Some(m) = &h.metadata {
        writeln!(
            out,
            "  type      {} in {} / {}",
            m.resource_type, m.account, m.region
        )?;
        if let (Some(c), Some(e)) = (&m.creator, &m.created) {
            writeln!(out, "  created   {} by {} ({})", e.time, c.arn, c.kind)?;
            writeln!(out, "            {} {} ({})", e.source, e.name, e.id)?;
        }
        writeln!(out, "  state     {}", m.state.as_str())?;
        match &m.tags {
            Some(tags) => writeln!(
                out,
                "  tags      {}",
                tags.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?,
            None => writeln!(out, "  tags      (not read yet)")?,
        }
        if let Some(e) = &m.error {
            writeln!(out, "  error     {}: {}", e.kind, e.message)?;
        }
    }
    if h.history.is_empty() {
        return writeln!(out, "No history.");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(120)
        .set_header(["EVENT TIME", "CHANGE", "BY", "EVENT", "TAGS"]);
    for i in [0, 1] {
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    for e in &h.history {
        let mut tags: Vec<String> = e.added.iter().map(|(k, v)| format!("+{k}={v}")).collect();
        tags.extend(
            e.changed
                .iter()
                .map(|(k, c)| format!("~{k}={} (was {})", c.after, c.before)),
        );
        tags.extend(e.removed.iter().map(|k| format!("-{k}")));
        if let Some(f) = &e.error {
            tags.push(format!("error: {}: {}", f.kind, f.message));
        }
        let change = match e.change {
            Change::Planned => "planned\n(dry run:\nnot written)".to_string(),
            c => c.as_str().to_string(),
        };
        t.add_row([
            e.event.time.clone(),
            change,
            short_id(&e.actor).to_string(),
            format!("{}\n{}", e.event.name, e.event.id),
            tags.join("\n"),
        ]);
    }
    writeln!(out, "{t}")
}

/// `explain`: the resource, then one section per question.
pub fn explain_table(
    e: &tagwarden_flow::explain::Explanation,
    out: &mut dyn Write,
) -> io::Result<()> {
    printable(out, |out| explain_table_raw(e, out))
}

fn explain_table_raw(
    e: &tagwarden_flow::explain::Explanation,
    out: &mut dyn Write,
) -> io::Result<()> {
    use tagwarden_flow::explain::Explanation;
    let k = match e {
        Explanation::Unknown { arn, reasons, .. } => {
            writeln!(
                out,
                "{arn}
  not in the audit store. Likely reasons:"
            )?;
            for r in reasons {
                writeln!(out, "  - {r}")?;
            }
            return Ok(());
        }
        Explanation::Known(k) => k,
    };
    writeln!(out, "{}", k.arn)?;
    writeln!(
        out,
        "  type        {} in {} / {}",
        k.resource_type, k.account, k.region
    )?;
    writeln!(out, "  state       {}", k.state)?;
    if let Some(err) = &k.error {
        writeln!(out, "  error       {}: {}", err.kind, err.message)?;
    }
    if !k.pending.is_empty() {
        let p: Vec<String> = k.pending.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(out, "  pending     {}", p.join(", "))?;
    }
    match &k.creation {
        Some(c) => {
            writeln!(
                out,
                "  created     {} {} {} ({})",
                c.event.time, c.event.source, c.event.name, c.event.id
            )?;
            match &c.catalog {
                Some(row) => {
                    writeln!(
                        out,
                        "  catalog     {} from {} ({:?})",
                        row.resource_type, row.ids, row.tagging_api
                    )?;
                    if row.resource_type != k.resource_type {
                        writeln!(
                            out,
                            "              this {} is a child of that resource: no event of its own",
                            k.resource_type
                        )?;
                    }
                }
                None => writeln!(out, "  catalog     no row reads this event any more")?,
            }
        }
        None => writeln!(out, "  created     no creation event is stored")?,
    }
    if let Some(c) = &k.creator {
        writeln!(out, "  creator     {} ({})", c.arn, c.kind)?;
        if let Some(o) = &c.origin {
            let who = o.render().unwrap_or_default();
            writeln!(
                out,
                "  origin      {who} ({}), via {}",
                o.kind.as_str(),
                o.via.join(" -> ")
            )?;
        }
        if let Some(s) = &c.source_identity {
            writeln!(out, "  source id   {s}")?;
        }
        let mut parent = c.launched_by.as_ref();
        while let Some(p) = parent {
            let by = p.creator.as_deref().unwrap_or("unknown creator");
            writeln!(out, "  launched by {} (created by {by})", p.arn)?;
            parent = p.launched_by.as_deref();
        }
        let who = c.responsible.as_deref();
        writeln!(
            out,
            "  responsible {}",
            who.unwrap_or("unknown: the parent was not seen created")
        )?;
    }
    writeln!(out, "  policy      {}", k.policy.note)?;
    for d in &k.policy.keys {
        writeln!(
            out,
            "    {:<18} {:<28} now {:<24} {}",
            d.key,
            d.value.as_deref().unwrap_or("(null)"),
            d.current.as_deref().unwrap_or("(absent)"),
            d.decision
        )?;
    }
    let line = |e: &tagwarden_store::model::HistoryEntry| {
        let mut what: Vec<String> = e.added.iter().map(|(k, v)| format!("+{k}={v}")).collect();
        what.extend(
            e.changed
                .iter()
                .map(|(k, c)| format!("~{k}={} (was {})", c.after, c.before)),
        );
        what.extend(e.removed.iter().map(|k| format!("-{k}")));
        if let Some(f) = &e.error {
            what.push(format!("error {}: {}", f.kind, f.message));
        }
        // A restore names whom it undid.
        let by = match e.change {
            tagwarden_store::model::Change::Restored => "undoing",
            _ => "by",
        };
        format!(
            "    {} {} {by} {} ({} {}) {}",
            e.event.time,
            e.change.as_str(),
            e.actor,
            e.event.name,
            e.event.id,
            what.join(" ")
        )
    };
    for (title, entries) in [
        ("writes", &k.writes),
        ("mismatches", &k.mismatches),
        ("tampering", &k.tampering),
    ] {
        if entries.is_empty() {
            writeln!(out, "  {title:<11} none")?;
        } else {
            writeln!(out, "  {title}")?;
            for e in entries {
                writeln!(out, "{}", line(e))?;
            }
        }
    }
    match &k.verdict {
        Some(v) if v.compliant => writeln!(out, "  verdict     compliant (current policy, last known tags)"),
        Some(v) => writeln!(
            out,
            "  verdict     non-compliant (current policy, last known tags): missing {:?}, invalid {:?}",
            v.missing, v.invalid
        ),
        None => writeln!(out, "  verdict     not judged (tags not read, or out of the policy's scope)"),
    }
}

/// `scan`: one row per resource that fails the policy, then a count.
pub fn scan_table(
    findings: &[tagwarden_core::compliance::Finding],
    out: &mut dyn Write,
) -> io::Result<()> {
    printable(out, |out| scan_table_raw(findings, out))
}

fn scan_table_raw(
    findings: &[tagwarden_core::compliance::Finding],
    out: &mut dyn Write,
) -> io::Result<()> {
    let bad: Vec<_> = findings.iter().filter(|f| !f.verdict.compliant).collect();
    if bad.is_empty() {
        return writeln!(out, "Every resource scanned is compliant.");
    }
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(110)
        .set_header(["RESOURCE / TYPE", "ACCOUNT / REGION", "VIOLATIONS"]);
    for f in bad {
        let v = &f.verdict;
        let mut why: Vec<String> = v.missing.iter().map(|k| format!("missing {k}")).collect();
        why.extend(
            v.invalid
                .iter()
                .map(|(k, val)| format!("{k}={val} not allowed")),
        );
        why.extend(
            v.wrong_case
                .iter()
                .map(|(found, want)| format!("{found} should be {want}")),
        );
        why.extend(v.prohibited.iter().map(|k| format!("{k} prohibited")));
        why.extend(v.attribution_mismatch.iter().map(|(k, m)| {
            format!(
                "{k}={} but tagwarden's record says {} (creator {})",
                m.found.as_deref().unwrap_or("(removed)"),
                m.expected,
                m.creator
            )
        }));
        t.add_row([
            format!("{}\n{}", short_id(&f.arn), f.resource_type),
            format!("{}\n{}", f.account, f.region),
            why.join("\n"),
        ]);
    }
    writeln!(out, "{t}")
}

/// Stable columns of `scan --format csv`.
pub const SCAN_COLUMNS: [&str; 11] = [
    "arn",
    "resource_type",
    "account",
    "region",
    "compliant",
    "missing",
    "invalid",
    "wrong_case",
    "prohibited",
    "tags",
    "attribution_mismatch",
];

/// A list or map in one CSV cell, as JSON; an empty one as nothing, so a
/// spreadsheet filter on "non-empty" finds the violations. Both CSV outputs
/// (`scan`, `export`) follow this one rule.
pub fn json_cell<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_string(v) {
        Ok(s) if s != "[]" && s != "{}" => s,
        _ => String::new(),
    }
}

/// A cell a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'` (OWASP's CSV injection
/// advice), as event data can start with anything.
pub fn inert_cell(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

/// `scan --format csv`: one row per resource; lists and maps as JSON cells.
pub fn scan_csv(
    findings: &[tagwarden_core::compliance::Finding],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(SCAN_COLUMNS)?;
    for f in findings {
        let v = &f.verdict;
        let row = [
            f.arn.clone(),
            f.resource_type.clone(),
            f.account.clone(),
            f.region.clone(),
            v.compliant.to_string(),
            json_cell(&v.missing),
            json_cell(&v.invalid),
            json_cell(&v.wrong_case),
            json_cell(&v.prohibited),
            json_cell(&f.tags),
            json_cell(&v.attribution_mismatch),
        ];
        w.write_record(row.map(inert_cell))?;
    }
    w.flush()?;
    Ok(())
}

/// The SARIF rules: one per kind of violation.
const SARIF_RULES: [(&str, &str); 5] = [
    ("missing-tag", "A required tag is missing."),
    (
        "invalid-value",
        "A tag's value is not allowed by the policy.",
    ),
    (
        "wrong-key-case",
        "A tag key differs from the policy's key only in case.",
    ),
    ("prohibited-tag", "The policy prohibits this tag key."),
    (
        "attribution-mismatch",
        "A protected attribution key differs from what the audit store says tagwarden wrote or the creation event supports.",
    ),
];

/// `scan --format sarif`: SARIF 2.1.0, one result per violation, located
/// by the resource's ARN.
pub fn scan_sarif(findings: &[tagwarden_core::compliance::Finding]) -> serde_json::Value {
    use serde_json::json;
    let mut results = Vec::new();
    for f in findings {
        let v = &f.verdict;
        let mut add = |rule: &str, text: String| {
            results.push(json!({
                "ruleId": rule,
                "level": "error",
                "message": {"text": text},
                "locations": [{"logicalLocations": [{
                    "fullyQualifiedName": f.arn,
                    "kind": "resource",
                    "decoratedName": f.resource_type,
                }]}],
                "properties": {"account": f.account, "region": f.region},
            }))
        };
        for k in &v.missing {
            add(
                "missing-tag",
                format!("{}: required tag `{k}` is missing", f.arn),
            );
        }
        for (k, val) in &v.invalid {
            add(
                "invalid-value",
                format!("{}: `{k}={val}` is not allowed", f.arn),
            );
        }
        for (found, want) in &v.wrong_case {
            add(
                "wrong-key-case",
                format!("{}: `{found}` should be `{want}`", f.arn),
            );
        }
        for k in &v.prohibited {
            add("prohibited-tag", format!("{}: `{k}` is prohibited", f.arn));
        }
        for (k, m) in &v.attribution_mismatch {
            add(
                "attribution-mismatch",
                format!(
                    "{}: `{k}` is `{}` but tagwarden's record says `{}` (created by {})",
                    f.arn,
                    m.found.as_deref().unwrap_or("(removed)"),
                    m.expected,
                    m.creator
                ),
            );
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "tagwarden",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": SARIF_RULES.iter().map(|(id, text)| json!({
                    "id": id, "shortDescription": {"text": text}
                })).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
