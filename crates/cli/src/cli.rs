//! Command-line arguments. Parsing only validates; I/O happens in `main`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;
use tagwarden_core::trust::Accounts;

#[derive(Debug, Parser)]
#[command(
    name = "tagwarden",
    version,
    about = "Attribute every AWS resource to its creator from CloudTrail, and check tag policies."
)]
pub struct Cli {
    /// More detail on stderr: a line per source read.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// How to reach AWS. Without flags, the SDK's standard chain decides
/// (environment, profiles, SSO, instance or task role).
#[derive(Debug, Args)]
#[command(next_help_heading = "AWS access")]
pub struct AwsArgs {
    /// Named profile from the shared config files.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Region for calls that name none (S3 listing, STS).
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,
    /// Send every call to this endpoint (an emulator, a VPC endpoint);
    /// AWS_ENDPOINT_URL does the same.
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Reach each account the events name, other than the caller's own,
    /// through arn:<partition>:iam::<account>:role/NAME.
    #[arg(long, global = true, value_name = "NAME")]
    pub assume_role: Option<String>,
    /// SDK attempts per call (standard retry: exponential backoff with
    /// jitter).
    #[arg(long, global = true, value_name = "N", default_value_t = 6)]
    pub max_attempts: u32,
    /// S3 objects downloaded at once, ahead of the reader.
    #[arg(long, global = true, value_name = "N", default_value_t = 8)]
    pub fetch_ahead: usize,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Audit store")]
pub struct StoreArgs {
    /// Where the audit trail is kept: sqlite:PATH, or dynamodb:[SUFFIX] for
    /// the tables TagsMetadata-SUFFIX, TagHistory-SUFFIX and
    /// UserActions-SUFFIX (or those the TAGWARDEN_*_TABLE variables name).
    #[arg(
        long = "store",
        global = true,
        value_name = "URL",
        env = "TAGWARDEN_STORE",
        default_value = tagwarden_store::url::DEFAULT
    )]
    pub url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show which tags would be written, from CloudTrail sources. Changes nothing.
    Plan(PlanArgs),
    /// Tag the resources CloudTrail sources name: plan, read current tags,
    /// write only what is missing.
    Apply(ApplyArgs),
    /// Check live resources against the tag policy. Exit 1 on violations.
    Scan(ScanArgs),
    /// Show a resource's creator and its whole tag history, from the audit store.
    History(HistoryArgs),
    /// Why a resource is (or is not) tagged: its creation event and catalog
    /// row, its creator and origin chain, the policy's decisions
    /// (recomputed), the writes, failures and tampering, the verdict. Exit 1
    /// when the store knows nothing of it.
    Explain(ExplainArgs),
    /// Write the audit store's tag history for auditors: one row per entry.
    Export(ExportArgs),
    /// Manage the audit store.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Work with tag policy files.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Verify CloudTrail log file integrity: the digest chain, each
    /// digest's signature, each log's hash. Exit 1 when any file is
    /// missing, altered or unsigned.
    Verify(VerifyArgs),
    /// Attribute past logs under an S3 prefix: locally as `apply` does, or
    /// with --distributed through the stack's Step Functions Distributed
    /// Map, shown first, then started and followed.
    Backfill(BackfillArgs),
}

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// `s3://BUCKET/PREFIX` of the trail's logs.
    #[arg(value_name = "SOURCE", required_unless_present = "execution")]
    pub source: Option<String>,
    /// The first day of logs (RFC 3339, or a date).
    #[arg(long, value_name = "T", value_parser = parse_time, required_unless_present = "execution")]
    pub since: Option<String>,
    /// The last (RFC 3339, or a date, meaning its end); today when absent.
    #[arg(long, value_name = "T", value_parser = parse_until)]
    pub until: Option<String>,
    /// Run on the stack's backfill state machine rather than here.
    #[arg(long)]
    pub distributed: bool,
    /// The backfill state machine (the stack's `BackfillStateMachineArn`).
    #[arg(long, value_name = "ARN", env = "TAGWARDEN_BACKFILL_STATE_MACHINE")]
    pub state_machine: Option<String>,
    /// Batches of logs the Map runs at once.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub max_concurrency: u32,
    /// Percentage of log objects that may fail before the execution does.
    #[arg(long, value_name = "P", default_value_t = 0.0)]
    pub tolerated_failure_percentage: f64,
    /// Follow this execution instead of starting one (with --resume, run
    /// again what it left first).
    #[arg(long, value_name = "ARN", conflicts_with_all = ["source", "since"])]
    pub execution: Option<String>,
    /// Redrive the stopped or failed --execution (a new one from its input
    /// where Step Functions refuses).
    #[arg(long, requires = "execution")]
    pub resume: bool,
    /// Start, print the execution, and return without following it.
    #[arg(long)]
    pub detach: bool,
    /// Show what would run, and stop.
    #[arg(long)]
    pub dry_run: bool,
    /// Start without asking, when run on a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
    /// Tag policy (YAML), for a local backfill.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// `s3://BUCKET/PREFIX` holding the trail's logs and digests (the
    /// digests carry their signatures in S3 metadata).
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// CloudTrail's public keys: the output of `aws cloudtrail
    /// list-public-keys` as JSON.
    #[arg(long, value_name = "FILE")]
    pub public_keys: Option<PathBuf>,
    /// Stop at the digest that starts at or before this time (RFC 3339 or
    /// a date); the whole chain when absent.
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// CloudTrail log files (.json or .json.gz), JSON arrays of records, single
    /// records, EventBridge events, S3 notifications, directories (read
    /// recursively), s3://bucket/prefix, or `-` for stdin.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// CloudTrail log files (.json or .json.gz), JSON arrays of records, single
    /// records, EventBridge events, S3 notifications, directories (read
    /// recursively), s3://bucket/prefix, or `-` for stdin.
    #[arg(required_unless_present = "retry_failed", value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Retry the resources the audit store holds as failed, instead of
    /// reading sources.
    #[arg(long, conflicts_with = "sources")]
    pub retry_failed: bool,
    /// Call no AWS API: record the plan in the audit store as planned-only
    /// entries, not checked against live tags (implies --dry-run).
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub input: InputArgs,
    /// Read current tags and show what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply without asking, when run on a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// `json` prints one object with every resource's outcome and the API
    /// calls made.
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
    /// Retries, with backoff, for resources not visible yet and for calls
    /// the SDK gave up on.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub retries: u32,
    /// First backoff step in milliseconds (doubles per retry, 8 s at most).
    #[arg(long, value_name = "MS", default_value_t = 1000, hide = true)]
    pub retry_base_ms: u64,
    /// (account, region, API) groups worked on at once.
    #[arg(long, value_name = "N", default_value_t = 8)]
    pub concurrency: usize,
    /// How long to wait for resources that refuse tags while they are being
    /// created (a cache cluster, a search domain, a stream), trying again
    /// after 1, 2, 4, 8, then every 15 minutes; `0s` records them as failed
    /// at once (`--retry-failed` tries them later).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = duration)]
    pub wait: Duration,
    /// Milliseconds for each second of the waiting schedule (tests shorten it).
    #[arg(long, value_name = "MS", default_value_t = 1000, hide = true)]
    pub wait_unit_ms: u64,
    /// Creations planned and applied together when the plan is too large
    /// to hold: a run of more than ten parts is shown as an overview, then
    /// read again part by part, so memory holds one part whatever the size.
    #[arg(long, value_name = "N", default_value = "1000")]
    pub part_size: std::num::NonZeroUsize,
}

impl ApplyArgs {
    /// Nothing is written: `--dry-run`, or `--offline`, which implies it.
    pub fn dry_run(&self) -> bool {
        self.dry_run || self.offline
    }
}

/// `30m`, `2h`, `90s`, `1h 30m`.
fn duration(s: &str) -> Result<Duration, String> {
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("`{s}` is not a duration (30m, 2h, 90s): {e}"))?;
    Duration::try_from(d).map_err(|_| format!("`{s}` is negative"))
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Regions, comma-separated, or `all` (every region enabled for the
    /// account); the configured region when absent.
    #[arg(long, value_name = "LIST|all", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Accounts, comma-separated; the caller's own when absent. Others are
    /// reached through the global `--assume-role` role.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// Resource types (`ec2:instance,s3:bucket`); every listable type in
    /// the policy's scope when absent.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub types: Vec<String>,
    /// Tag policy (YAML); the built-in default when absent.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Check only what these events name, instead of listing: an EC2
    /// instance state-change notification (its instance; without an
    /// instance id, its region's instances), or any creation event or log
    /// `plan` reads (what it created). `-` reads stdin.
    #[arg(long = "event", value_name = "FILE", conflicts_with_all = ["regions", "accounts"])]
    pub events: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Write CloudWatch metrics as Embedded Metric Format lines to this file
    /// (`-` for standard error).
    #[arg(long, value_name = "FILE")]
    pub emf: Option<PathBuf>,
    /// Send the metrics with CloudWatch PutMetricData (1000 values a
    /// call), for runs outside Lambda where no agent reads EMF.
    #[arg(long)]
    pub put_metrics: bool,
    /// The metrics' namespace.
    #[arg(long, value_name = "NAME", default_value = "TagCompliance")]
    pub namespace: String,
    /// Put the run's scan log (JSON Lines) under this S3 prefix, at
    /// `scans/dt=YYYY-MM-DD/<scan id>.jsonl`.
    #[arg(long, value_name = "s3://BUCKET/PREFIX")]
    pub scan_log: Option<String>,
    /// Publish one alert listing the violations to this SNS topic.
    #[arg(long, value_name = "TOPIC_ARN")]
    pub alert_topic: Option<String>,
    /// Add the required tags a resource lacks, from the policy's
    /// `remediation` templates; the plan is shown first, and what is
    /// written is recorded in the audit store.
    #[arg(long)]
    pub remediate: bool,
    /// With --remediate: show and record what would be written; write nothing.
    #[arg(long, requires = "remediate")]
    pub dry_run: bool,
    /// With --remediate: write without asking, when run on a terminal.
    #[arg(long, short = 'y', requires = "remediate")]
    pub yes: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    /// One row per resource scanned.
    Csv,
    /// SARIF 2.1.0: one result per violation, for code-scanning dashboards.
    Sarif,
    /// One self-contained page with charts and the violations.
    Html,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The resource's ARN.
    pub arn: String,
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The resource's ARN.
    pub arn: String,
    /// Tag policy (YAML) whose decisions are shown; the built-in default
    /// when absent.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Table)]
    pub format: PlanFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only entries whose event is at or after this time (RFC 3339, or a date).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a policy file: every error with its line and field.
    Check {
        /// The policy (YAML).
        file: PathBuf,
    },
    /// Convert an AWS Organizations tag policy (JSON) to a tagwarden policy,
    /// printed on standard output.
    ImportOrg {
        /// The Organizations tag policy.
        file: PathBuf,
        /// Keys every resource must carry (Organizations judges only keys
        /// present, so imported keys are optional otherwise).
        #[arg(long, value_name = "KEYS", value_delimiter = ',')]
        require: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Create the store: the SQLite file, or the DynamoDB tables (on-demand
    /// billing, point-in-time recovery, encryption at rest).
    Init,
    /// Record a batch that `apply` saved when the store refused it.
    Import {
        /// The `tagwarden-unrecorded-*.json` file `apply` named.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct InputArgs {
    /// Tag policy (YAML); the built-in default when absent.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Only events at or after this time (RFC 3339, or a date: 2026-01-15).
    #[arg(long, value_name = "T", value_parser = parse_time)]
    pub since: Option<String>,
    /// Only events at or before this time (RFC 3339, or a date, meaning its end).
    #[arg(long, value_name = "T", value_parser = parse_until)]
    pub until: Option<String>,
    /// Take records of these accounts only (comma-separated); others are
    /// refused as bad input. Every account the logs name when absent.
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_account)]
    pub accounts: Vec<String>,
    /// Name Identity Center users through the identity store of Identity
    /// Center in this region (identitystore:DescribeUser). Without it,
    /// they are named by their id.
    #[arg(long, value_name = "REGION")]
    pub identity_store_region: Option<String>,
}

impl InputArgs {
    pub fn accounts(&self) -> Accounts {
        match self.accounts.is_empty() {
            true => Accounts::Any,
            false => Accounts::only(self.accounts.iter().cloned()),
        }
    }
}

fn parse_account(s: &str) -> Result<String, String> {
    let s = s.trim();
    match tagwarden_core::catalog::is_account_id(s) {
        true => Ok(s.to_string()),
        false => Err(format!("`{s}` is not a 12-digit account id")),
    }
}

/// Normalises a time to CloudTrail's `YYYY-MM-DDTHH:MM:SSZ`, which sorts as
/// text. A time needs an offset (`Z`, `+02:00`): without one it would be
/// ambiguous. `--since` rounds a fraction of a second up, `--until` down,
/// so neither lets in an event outside the bound.
fn normalise(t: &str, end_of_day: bool) -> Result<String, String> {
    const FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";
    if let Ok(ts) = t.parse::<jiff::Timestamp>() {
        let whole = if !end_of_day && ts.subsec_nanosecond() != 0 {
            ts.checked_add(jiff::SignedDuration::from_secs(1))
                .map_err(|e| e.to_string())?
        } else {
            ts
        };
        return Ok(whole.strftime(FORMAT).to_string());
    }
    let is_date = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
    let date: jiff::civil::Date = t.parse().ok().filter(|_| is_date).ok_or_else(|| {
        format!(
            "`{t}` is neither a date (2026-01-15) nor a time with an offset (2026-01-15T10:30:00Z)"
        )
    })?;
    let time = if end_of_day {
        jiff::civil::time(23, 59, 59, 0)
    } else {
        jiff::civil::time(0, 0, 0, 0)
    };
    Ok(date.to_datetime(time).strftime(FORMAT).to_string())
}

fn parse_time(t: &str) -> Result<String, String> {
    normalise(t, false)
}

fn parse_until(t: &str) -> Result<String, String> {
    normalise(t, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_normalise_to_cloudtrail_format() {
        assert_eq!(parse_time("2026-01-15").unwrap(), "2026-01-15T00:00:00Z");
        assert_eq!(parse_until("2026-01-15").unwrap(), "2026-01-15T23:59:59Z");
        assert_eq!(
            parse_time("2026-01-15T12:00:00+02:00").unwrap(),
            "2026-01-15T10:00:00Z"
        );
        assert!(parse_time("yesterday").is_err());
        // No offset: refused rather than silently cut to the date.
        assert!(parse_time("2026-01-15T10:31:00").is_err());
        assert_eq!(
            parse_time("2026-01-15T10:30:00.9Z").unwrap(),
            "2026-01-15T10:30:01Z"
        );
        assert_eq!(
            parse_until("2026-01-15T10:30:00.9Z").unwrap(),
            "2026-01-15T10:30:00Z"
        );
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
