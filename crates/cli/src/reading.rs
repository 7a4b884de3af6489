//! sources → records → catalog → attribution → plan, for the CLI: the
//! sources listed once, then read whole (a plan held in memory), or, past
//! a number of creations, counted into an overview and read again in
//! parts that are each planned and settled on their own.

use crate::access::{Aws, LazyAws};
use crate::audit::Audit;
use crate::cli::{Cli, InputArgs};
use crate::one_line;
use crate::sources::{self, Input};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal};
use tagwarden_aws::directory::Directory;
use tagwarden_aws::s3_source::{self, DateRange, Object, S3Client};
use tagwarden_core::launches::Launches;
use tagwarden_core::overview::Overview;
use tagwarden_core::pipeline::{Stats, TagChange, WatchedCall, Window};
use tagwarden_core::plan::Plan;
use tagwarden_core::policy::Policy;
use tagwarden_flow::parts::mark_every;
use tagwarden_flow::read::{
    log_objects, logs_named, name_users, plan_of, plan_with_store, Cut, Gathered, Reading,
};

/// What reading the sources gave: the plan, the reader's counts, and how
/// many inputs could not be opened at all.
pub struct Planned {
    pub policy: Policy,
    pub plan: Plan,
    pub tag_changes: Vec<TagChange>,
    /// Calls that blind tagwarden: warned, and recorded by `apply`.
    pub watched: Vec<WatchedCall>,
    pub stats: Stats,
    pub open_errors: u64,
}

impl Planned {
    /// Some input was bad: the exit code says so even when the rest went well.
    pub fn had_errors(&self) -> bool {
        self.stats.errors + self.open_errors > 0
    }
}

/// A run's sources, listed: S3 prefixes are listed once (pruned by the
/// dates in their keys), so that a second reading reads the same objects.
pub struct Sources {
    inputs: Vec<Input>,
    objects: Vec<(S3Client, Object)>,
    /// Bytes to read, for progress; 0 when unknown.
    pub total: u64,
    /// Stdin, kept in a file so that it can be read twice.
    _spooled: Option<tempfile::NamedTempFile>,
}

impl Sources {
    /// Lists `sources`; with `rereadable`, stdin is first copied to a
    /// temporary file (its name in messages stays `-`).
    pub fn list(
        sources: &[String],
        args: &InputArgs,
        aws: &LazyAws,
        rereadable: bool,
    ) -> Result<Self> {
        let mut inputs = sources::expand(sources)?;
        let mut spooled = None;
        if rereadable && inputs.contains(&Input::Stdin) {
            let mut file = tempfile::NamedTempFile::new().context("keeping stdin")?;
            io::copy(&mut io::stdin().lock(), file.as_file_mut()).context("keeping stdin")?;
            for i in inputs.iter_mut().filter(|i| **i == Input::Stdin) {
                *i = Input::Kept(file.path().to_path_buf());
            }
            spooled = Some(file);
        }
        let dates = DateRange::around(args.since.as_deref(), args.until.as_deref());
        let mut objects = Vec::new();
        for input in &inputs {
            if let Input::S3 { bucket, prefix } = input {
                let aws = aws.get()?;
                let client = aws.bucket_client(bucket);
                let listed = aws
                    .runtime
                    .block_on(s3_source::list(&client, bucket, prefix, &dates))
                    .map_err(|e| aws.explain(e))
                    .with_context(|| format!("listing {}", input.name()))?;
                objects.extend(listed.into_iter().map(|o| (client.clone(), o)));
            }
        }
        let total = inputs.iter().map(|i| i.size()).sum::<u64>()
            + objects.iter().map(|(_, o)| o.size).sum::<u64>();
        Ok(Self {
            inputs,
            objects,
            total,
            _spooled: spooled,
        })
    }
}

fn progress(cli: &Cli, total: u64) -> ProgressBar {
    if cli.quiet || !io::stderr().is_terminal() || total < 32 << 20 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// How one reading of the sources speaks: the first reading reports input
/// errors and notes, a second one has nothing new to say.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Voice {
    First,
    Again,
}

/// Reads every source through `reading`, handing `cut` what it finds as
/// it goes; what is left after the last cut stays in `reading`. Returns
/// how many inputs could not be opened.
fn read_sources(
    cli: &Cli,
    sources: &Sources,
    aws: &LazyAws,
    reading: &mut Reading,
    cut: &mut Cut<'_>,
    voice: Voice,
) -> Result<u64> {
    let bar = match voice {
        Voice::First => progress(cli, sources.total),
        Voice::Again => ProgressBar::hidden(),
    };
    let verbose = cli.verbose > 0 && voice == Voice::First;
    let say = |line: String| {
        if voice == Voice::First {
            bar.suspend(|| eprintln!("{line}"))
        }
    };
    let mut open_errors = 0;
    for input in sources
        .inputs
        .iter()
        .filter(|i| !matches!(i, Input::S3 { .. }))
    {
        let name = input.name();
        bar.set_message(name.clone());
        match input.open() {
            Ok(r) => {
                let before = verbose.then(|| reading.stats().clone());
                reading.read_cut(&name, None, bar.wrap_read(r), cut);
                show(&say, &name, reading, before);
            }
            Err(e) => {
                open_errors += 1;
                say(format!(
                    "error: {}",
                    one_line(&format!("{name}: cannot open: {e}"))
                ));
            }
        }
    }
    let mut objects = |reading: &mut Reading, objects: Vec<(S3Client, Object)>, aws: &Aws| {
        let handle = aws.runtime.handle().clone();
        let wrap = |o: &Object, body| {
            bar.set_message(o.url());
            bar.wrap_read(body)
        };
        let done = |o: &Object, reading: &mut Reading, before| {
            show(&say, &o.url(), reading, verbose.then_some(before))
        };
        reading.read_objects(handle, objects, cli.aws.fetch_ahead, wrap, done, cut);
    };
    if !sources.objects.is_empty() {
        objects(reading, sources.objects.clone(), aws.get()?);
    }
    // Objects named by notifications: read once; what they name in turn is
    // only reported.
    let (logs, skipped) =
        logs_named(std::mem::take(&mut reading.named), None).map_err(anyhow::Error::msg)?;
    if !cli.quiet {
        for o in skipped {
            say(format!(
                "note: an S3 notification names {o}, which is not a CloudTrail log: skipped"
            ));
        }
    }
    if !logs.is_empty() {
        let aws = aws.get()?;
        let named = aws.runtime.block_on(log_objects(&aws.clients, logs));
        objects(reading, named, aws);
        for o in std::mem::take(&mut reading.named) {
            say(format!(
                "note: {o} was named by a notification inside an S3 object: not followed"
            ));
        }
    }
    bar.finish_and_clear();
    Ok(open_errors)
}

/// Prints the input errors `reading` met since last asked, and with `-v`
/// what one document held.
fn show(say: &dyn Fn(String), name: &str, reading: &mut Reading, before: Option<Stats>) {
    for e in reading.errors.drain(..) {
        say(format!("error: {}", one_line(&e.to_string())));
    }
    if let Some(before) = before {
        let now = reading.stats();
        say(format!(
            "read {name}: {} bytes, {} records, {} creations, {} errors",
            now.bytes - before.bytes,
            now.records - before.records,
            now.creations - before.creations,
            now.errors - before.errors
        ));
    }
}

fn window(args: &InputArgs) -> Window {
    Window {
        since: args.since.clone(),
        until: args.until.clone(),
        not_after: Some(Window::latest(jiff::Timestamp::now())),
    }
}

/// The first reading: the plan held whole, or, when it grew past its
/// bound, counted.
pub enum FirstPass {
    Whole(Planned),
    Counted(Counted),
}

/// A plan too large to hold, as the first reading counted it.
pub struct Counted {
    pub policy: Policy,
    pub overview: Overview,
    pub stats: Stats,
    pub open_errors: u64,
}

impl Counted {
    pub fn had_errors(&self) -> bool {
        self.stats.errors + self.open_errors > 0
    }
}

/// sources → plan, whole: `plan`, which prints every resource.
pub fn read_plan(
    cli: &Cli,
    sources: &[String],
    args: &InputArgs,
    aws: &LazyAws,
    audit: Option<(&Audit, bool)>,
) -> Result<Planned> {
    let policy = crate::load_policy(args.policy.as_deref())?;
    let sources = Sources::list(sources, args, aws, false)?;
    match first_pass(cli, &sources, args, aws, audit, policy, None)? {
        FirstPass::Whole(planned) => Ok(planned),
        FirstPass::Counted(_) => unreachable!("held whole without a bound"),
    }
}

/// Reads `sources` once, holding what it finds while the creations stay
/// within [`HELD_PARTS`] parts of `part` (without a part size, always);
/// past that, counts the rest part by part into an overview, and the plan
/// is made again part by part by [`read_in_parts`]. The store, when there is one, names the creators of
/// parents created in earlier runs.
pub fn first_pass(
    cli: &Cli,
    sources: &Sources,
    args: &InputArgs,
    aws: &LazyAws,
    audit: Option<(&Audit, bool)>,
    policy: Policy,
    part: Option<usize>,
) -> Result<FirstPass> {
    let hold = part.map(|p| p.saturating_mul(HELD_PARTS));
    let part = part.unwrap_or(usize::MAX);
    let mut reading = Reading::new(window(args), args.accounts()).inflating_beside();
    if hold.is_some() {
        reading = reading.marked(mark_every(part));
    }
    let mut held = Gathered::default();
    let mut overview: Option<Overview> = None;
    let bound = hold.unwrap_or(usize::MAX);
    let count = |mut g: Gathered, overview: &mut Option<Overview>, held: &mut Gathered| {
        for e in g.errors.drain(..) {
            eprintln!("error: {}", one_line(&e.to_string()));
        }
        match overview {
            Some(o) => o.add(&plan_of(
                &g.creations,
                &g.chains,
                &Launches::of(&g.creations),
                &policy,
            )),
            None => {
                held.append(g);
                if held.creations.len() > bound {
                    let whole = std::mem::take(held);
                    let mut o = Overview::keeping(crate::render::FIRST_ROWS);
                    o.add(&plan_of(
                        &whole.creations,
                        &whole.chains,
                        &Launches::of(&whole.creations),
                        &policy,
                    ));
                    *overview = Some(o);
                }
            }
        }
    };
    let mut send = |_: u64, g: Gathered| {
        count(g, &mut overview, &mut held);
        true
    };
    let cut = &mut Cut::every(part, &mut send);
    let open_errors = read_sources(cli, sources, aws, &mut reading, cut, Voice::First)?;
    let rest = reading.take();
    count(rest, &mut overview, &mut held);
    if let Some(overview) = overview {
        return Ok(FirstPass::Counted(Counted {
            policy,
            overview,
            stats: reading.stats().clone(),
            open_errors,
        }));
    }
    let mut planned = plan_held(cli, args, aws, audit, &policy, held)?;
    planned.stats = reading.stats().clone();
    planned.open_errors = open_errors;
    planned.policy = policy;
    Ok(FirstPass::Whole(planned))
}

/// Parts' worth of creations a plan may hold and still be shown whole,
/// asked about once and settled at once.
pub const HELD_PARTS: usize = 10;

/// What was read, planned with what earlier runs left in the store:
/// Identity Center users named, session hops and parents' creators.
fn plan_held(
    cli: &Cli,
    args: &InputArgs,
    aws: &LazyAws,
    audit: Option<(&Audit, bool)>,
    policy: &Policy,
    mut held: Gathered,
) -> Result<Planned> {
    if let Some(region) = args.identity_store_region.as_deref() {
        let aws = aws.get()?;
        let directory = Directory::new(&aws.clients, region);
        let (chains, creations) = (&mut held.chains, &held.creations);
        for e in aws
            .runtime
            .block_on(name_users(&directory, creations, chains))
        {
            eprintln!("warning: {}: named by id", one_line(&e));
        }
    }
    // Sessions and parents from earlier runs: the store is written only by
    // a run that records (`apply`). A store that cannot answer leaves them
    // to these sources alone (said); its failure to record is `apply`'s to
    // report, after the writes, with nothing lost.
    let from_store = audit.map(|(a, keep)| {
        let (chains, creations) = (&mut held.chains, &held.creations);
        a.run(plan_with_store(&a.store, policy, creations, chains, keep))
    });
    let alone = |held: &Gathered| {
        plan_of(
            &held.creations,
            &held.chains,
            &Launches::of(&held.creations),
            policy,
        )
    };
    let plan = match from_store {
        Some(Ok(plan)) => plan,
        Some(Err(e)) => {
            eprintln!(
                "warning: {}: session hops and parents' creators come from these sources only",
                one_line(&e.to_string())
            );
            alone(&held)
        }
        None => alone(&held),
    };
    if !cli.quiet {
        for line in plan
            .items
            .iter()
            .chain(&plan.untouched)
            .flat_map(|i| i.mismatch_lines())
        {
            eprintln!("warning: attribution-mismatch: {}", one_line(&line));
        }
    }
    Ok(Planned {
        plan,
        tag_changes: held.changes,
        watched: held.watched,
        stats: Stats::default(),
        open_errors: 0,
        policy: policy.clone(),
    })
}

/// Reads `sources` again, in parts of about `part` creations, handing each
/// part's plan (made with the store, which keeps each part's session hops
/// for the next) to `settle` as it is read: memory holds one part.
#[allow(clippy::too_many_arguments)]
pub fn read_in_parts(
    cli: &Cli,
    sources: &Sources,
    args: &InputArgs,
    aws: &LazyAws,
    audit: &Audit,
    policy: &Policy,
    part: usize,
    settle: &mut dyn FnMut(Planned),
) -> Result<()> {
    let mut reading = Reading::new(window(args), args.accounts())
        .marked(mark_every(part))
        .inflating_beside();
    let mut failed = None;
    let mut one = |g: Gathered| match failed
        .is_none()
        .then(|| plan_held(cli, args, aws, Some((audit, true)), policy, g))
    {
        Some(Ok(planned)) => {
            settle(planned);
            true
        }
        Some(Err(e)) => {
            failed = Some(e);
            false
        }
        None => false,
    };
    let mut send = |_: u64, g: Gathered| one(g);
    read_sources(
        cli,
        sources,
        aws,
        &mut reading,
        &mut Cut::every(part, &mut send),
        Voice::Again,
    )?;
    let rest = reading.take();
    one(rest);
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}
