//! `tagwarden backfill`: past logs under an S3 prefix. Locally, `apply`
//! over them; with `--distributed`, the stack's Distributed Map: what it
//! will read and cost first, then the execution, started and followed.

use crate::access::LazyAws;
use crate::apply;
use crate::cli::{ApplyArgs, BackfillArgs, Cli, InputArgs, PlanFormat};
use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal, Write};
use std::time::Duration;
use tagwarden_aws::engine::{Engine, RunState, Status, StepFunctions};
use tagwarden_aws::s3_source;
use tagwarden_core::backfill::{Estimate, Request};
use tagwarden_flow::backfill::{execution_name, follow, machine_of, resume, survey};

/// The execution failed, was stopped or timed out.
const EXIT_UNFINISHED: u8 = 1;

/// How often a followed execution is asked about.
const EVERY: Duration = Duration::from_secs(5);

pub fn run(cli: &Cli, args: &BackfillArgs) -> Result<u8> {
    if let Some(execution) = &args.execution {
        return existing(cli, args, execution);
    }
    let (Some(source), Some(since)) = (&args.source, &args.since) else {
        bail!("give s3://BUCKET/PREFIX and --since, or --execution ARN");
    };
    let Some((bucket, prefix)) = s3_source::parse_url(source) else {
        bail!("{source}: backfill reads s3://BUCKET/PREFIX");
    };
    if !args.distributed {
        return apply::run(cli, &local(args, source));
    }
    let Some(machine) = args.state_machine.as_deref() else {
        bail!(
            "--distributed needs --state-machine ARN (the stack's BackfillStateMachineArn, \
             or TAGWARDEN_BACKFILL_STATE_MACHINE)"
        );
    };
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let mut request =
        Request::new(prefix, since, args.until.as_deref(), &today).map_err(anyhow::Error::msg)?;
    request.max_concurrency = args.max_concurrency;
    if !(0.0..=100.0).contains(&args.tolerated_failure_percentage) {
        bail!("--tolerated-failure-percentage is between 0 and 100");
    }
    request.tolerated_failure_percentage = args.tolerated_failure_percentage;

    let aws = LazyAws::new(cli);
    let aws = aws.get()?;
    let client = aws.bucket_client(bucket);
    let estimate = aws
        .runtime
        .block_on(survey(&client, bucket, &request))
        .map_err(|e| aws.explain(e))
        .with_context(|| format!("listing s3://{bucket}/{}", request.prefix))?;
    show(args.format, machine, &request, &estimate)?;
    if args.dry_run {
        return Ok(0);
    }
    if estimate.objects == 0 {
        eprintln!(
            "nothing to read: no log objects under s3://{bucket}/{}",
            request.prefix
        );
        return Ok(0);
    }
    let question = format!("Start the backfill of {} log objects?", estimate.objects);
    if !args.yes && !apply::confirm(&question)? {
        return Ok(0);
    }
    let engine = StepFunctions::new(&aws.clients, region_of(machine));
    let name = execution_name("backfill");
    let execution = aws
        .runtime
        .block_on(engine.start(machine, &name, &request.input().to_string()))
        .map_err(|e| aws.explain(e))
        .context("starting the backfill")?;
    println!("{execution}");
    if args.detach {
        return Ok(0);
    }
    watch(cli, aws.runtime.handle(), &engine, &execution)
}

/// `--execution`: follow it, after a resume when asked.
fn existing(cli: &Cli, args: &BackfillArgs, execution: &str) -> Result<u8> {
    if machine_of(execution).is_none() {
        bail!("{execution} is not a Step Functions execution ARN");
    }
    let aws = LazyAws::new(cli);
    let aws = aws.get()?;
    let engine = StepFunctions::new(&aws.clients, region_of(execution));
    let mut execution = execution.to_string();
    if args.resume {
        let started = aws
            .runtime
            .block_on(resume(&engine, &execution, &execution_name("resume")))
            .map_err(|e| aws.explain(e))
            .context("resuming the backfill")?;
        if !cli.quiet {
            match started.redriven {
                true => eprintln!("redriven: what the execution left runs again"),
                false => eprintln!(
                    "a redrive was refused: started anew from its input (logs already read are passed over)"
                ),
            }
        }
        execution = started.execution;
        println!("{execution}");
    }
    if args.detach {
        return Ok(0);
    }
    watch(cli, aws.runtime.handle(), &engine, &execution)
}

fn watch(
    cli: &Cli,
    runtime: &tokio::runtime::Handle,
    engine: &StepFunctions,
    execution: &str,
) -> Result<u8> {
    let bar = bar(cli);
    let last = runtime
        .block_on(follow(engine, execution, EVERY, |s| progress(&bar, s)))
        .map_err(|e| anyhow::anyhow!("following {execution}: {e}"))?;
    bar.finish_and_clear();
    let items = last
        .items
        .map(|i| {
            format!(
                ": {} of {} log objects read, {} failed",
                i.succeeded, i.total, i.failed
            )
        })
        .unwrap_or_default();
    match last.state {
        RunState::Succeeded => {
            if !cli.quiet {
                eprintln!("{}{items}", last.state.as_str());
            }
            Ok(0)
        }
        state => {
            let why = last.cause.map(|c| format!(" ({c})")).unwrap_or_default();
            eprintln!(
                "{}{items}{why}; run again what it left: tagwarden backfill --execution {execution} --resume",
                state.as_str()
            );
            Ok(EXIT_UNFINISHED)
        }
    }
}

fn bar(cli: &Cli) -> ProgressBar {
    if cli.quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} log objects {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

fn progress(bar: &ProgressBar, s: &Status) {
    match s.items {
        Some(i) => {
            bar.set_length(i.total.max(0) as u64);
            bar.set_position(i.done().max(0) as u64);
            bar.set_message(format!("{} failed, {} running", i.failed, i.running));
        }
        None => bar.set_message(s.state.as_str().to_string()),
    }
}

fn show(format: PlanFormat, machine: &str, r: &Request, e: &Estimate) -> Result<()> {
    let mut out = io::stdout().lock();
    match format {
        PlanFormat::Json => writeln!(
            out,
            "{}",
            serde_json::json!({"state_machine": machine, "input": r.input(), "estimate": e})
        )?,
        PlanFormat::Table => {
            let day = |d: &Option<String>| d.clone().unwrap_or_else(|| "open".into());
            writeln!(out, "state machine   {machine}")?;
            writeln!(out, "prefix          {}", r.prefix)?;
            writeln!(
                out,
                "days            {} .. {}",
                day(&r.first_day),
                day(&r.last_day)
            )?;
            writeln!(out, "log objects     {}", e.objects)?;
            writeln!(out, "bytes (gzip)    {}", e.bytes)?;
            writeln!(
                out,
                "invocations     {} (batches of {})",
                e.invocations,
                tagwarden_core::backfill::ITEMS_PER_BATCH
            )?;
            writeln!(
                out,
                "function cost   at least {:.2} GB-s, ${:.4} (128 MB; reading only)",
                e.gb_seconds, e.usd
            )?;
            writeln!(
                out,
                "at once         {} batches; {}% of objects may fail",
                r.max_concurrency, r.tolerated_failure_percentage
            )?;
        }
    }
    Ok(())
}

fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// A local backfill is `apply` over the prefix, in the window.
fn local(args: &BackfillArgs, source: &str) -> ApplyArgs {
    ApplyArgs {
        sources: vec![source.to_string()],
        retry_failed: false,
        offline: false,
        input: InputArgs {
            policy: args.policy.clone(),
            since: args.since.clone(),
            until: args.until.clone(),
            accounts: Vec::new(),
            identity_store_region: None,
        },
        dry_run: args.dry_run,
        yes: args.yes,
        format: args.format,
        retries: 5,
        retry_base_ms: 1000,
        concurrency: 8,
        wait: Duration::from_secs(30 * 60),
        wait_unit_ms: 1000,
        part_size: std::num::NonZeroUsize::new(tagwarden_flow::parts::PART_CREATIONS)
            .unwrap_or(std::num::NonZeroUsize::MIN),
    }
}
