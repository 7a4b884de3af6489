//! sources → records → catalog → attribution → plan, for the CLI: the
//! sources listed once, then read whole (a plan held in memory), or, past
//! a number of creations, counted into an overview and read again in
//! parts that are each planned and settled on their own.

use crate::access::{Aws, LazyAws};
use crate::audit::Audit;
use crate::cli::{Cli, InputArgs};
use crate::one_line;
use crate::sources::{Input, Sources};
use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{self, IsTerminal, Read};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use tagwarden_aws::directory::Directory;
use tagwarden_aws::s3_source::{Object, S3Client};
use tagwarden_core::overview::Overview;
use tagwarden_core::pipeline::{Stats, TagChange, WatchedCall, Window};
use tagwarden_core::plan::Plan;
use tagwarden_core::policy::Policy;
use tagwarden_flow::parts::mark_every;
use tagwarden_flow::read::{log_objects, logs_named, plan_part, Cut, Gathered, Holding, Reading};

/// One plan, with the tag calls and blinding calls read beside it.
pub struct Planned {
    pub plan: Plan,
    pub tag_changes: Vec<TagChange>,
    /// Calls that blind tagwarden: warned, and recorded by `apply`.
    pub watched: Vec<WatchedCall>,
}

/// What one reading of the sources met.
#[derive(Default)]
pub struct Counts {
    pub stats: Stats,
    /// Inputs that could not be opened or read whole, each as one
    /// "name: why" line; a second reading says only lines the first did
    /// not.
    pub unopened: Vec<String>,
}

impl Counts {
    /// Some input was bad: the exit code says so even when the rest went well.
    pub fn had_errors(&self) -> bool {
        self.stats.errors > 0 || !self.unopened.is_empty()
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

/// What a reading could not read: inputs it could not open, and objects
/// that broke off before their end (with why).
struct Unread {
    unopened: Vec<String>,
    broken: Vec<String>,
}

/// Reads every source through `reading`, handing `cut` what it finds as
/// it goes; what is left after the last cut stays in `reading`. Once
/// `stop` is set, the document being read ends there and no other is
/// opened.
fn read_sources(
    cli: &Cli,
    sources: &Sources,
    aws: &LazyAws,
    reading: &mut Reading,
    cut: &mut Cut<'_>,
    voice: Voice,
    stop: &AtomicBool,
) -> Result<Unread> {
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
    let mut unread = Unread {
        unopened: Vec::new(),
        broken: Vec::new(),
    };
    let inputs = sources
        .inputs
        .iter()
        .filter(|i| !matches!(i, Input::S3 { .. }));
    for input in inputs {
        if stop.load(Ordering::Relaxed) {
            return Ok(unread);
        }
        let name = input.name();
        bar.set_message(name.clone());
        match input.open() {
            Ok(r) => {
                let before = verbose.then(|| reading.stats().clone());
                reading.read_cut(&name, None, Until::new(bar.wrap_read(r), stop), cut);
                show(&say, &name, reading, before);
            }
            Err(e) => {
                say(format!(
                    "error: {}",
                    one_line(&format!("{name}: cannot open: {e}"))
                ));
                unread.unopened.push(format!("{name}: cannot open: {e}"));
            }
        }
    }
    let mut objects = |reading: &mut Reading, objects: Vec<(S3Client, Object)>, aws: &Aws| {
        let handle = aws.runtime.handle().clone();
        let wrap = |o: &Object, body| {
            bar.set_message(o.url());
            Until::new(bar.wrap_read(body), stop)
        };
        let done = |o: &Object, reading: &mut Reading, before| {
            show(&say, &o.url(), reading, verbose.then_some(before))
        };
        let ahead = cli.aws.fetch_ahead;
        let broken = reading.read_objects(handle, objects, ahead, wrap, done, cut);
        unread.broken.extend(broken);
    };
    if !sources.objects.is_empty() && !stop.load(Ordering::Relaxed) {
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
    if !logs.is_empty() && !stop.load(Ordering::Relaxed) {
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
    Ok(unread)
}

/// A source that ends, with an error, once the run stops: a part that
/// failed to settle ends the reading where it is.
struct Until<'s, R> {
    inner: R,
    stop: &'s AtomicBool,
}

impl<'s, R> Until<'s, R> {
    fn new(inner: R, stop: &'s AtomicBool) -> Self {
        Self { inner, stop }
    }
}

impl<R: Read> Read for Until<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.stop.load(Ordering::Relaxed) {
            true => Err(io::Error::other("the run stopped")),
            false => self.inner.read(buf),
        }
    }
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
    Whole(Planned, Counts),
    Counted(Overview, Counts),
}

/// sources → plan, whole: `plan`, which prints every resource.
pub fn read_plan(
    cli: &Cli,
    sources: &[String],
    args: &InputArgs,
    aws: &LazyAws,
    audit: Option<(&Audit, bool)>,
) -> Result<(Planned, Counts)> {
    let policy = crate::load_policy(args.policy.as_deref())?;
    let sources = Sources::list(sources, args, aws, false)?;
    let stop = AtomicBool::new(false);
    let mut reading = Reading::new(window(args), args.accounts()).inflating_beside();
    let unread = read_sources(
        cli,
        &sources,
        aws,
        &mut reading,
        &mut Cut::never(),
        Voice::First,
        &stop,
    )?;
    let held = reading.take();
    let planned = plan_gathered(cli, args, aws, audit, None, &policy, held)?;
    let counts = Counts {
        stats: reading.stats().clone(),
        unopened: unread.unopened,
    };
    Ok((planned, counts))
}

/// Parts' worth of things found (creations, tag calls, session hops…) a
/// run may hold and still be shown whole, asked about once and settled at
/// once.
pub const HELD_PARTS: usize = 10;

/// Reads `sources` once, cutting every `part` things found and holding
/// them while they stay within [`HELD_PARTS`] parts; past that, counts
/// what was held and the rest, part by part, into an overview, and
/// [`read_in_parts`] makes the plan again part by part. The store, when
/// there is one, names the creators of parents created in earlier runs.
pub fn first_pass(
    cli: &Cli,
    sources: &Sources,
    args: &InputArgs,
    aws: &LazyAws,
    audit: (&Audit, bool),
    policy: &Policy,
    part: NonZeroUsize,
) -> Result<FirstPass> {
    let part = part.get();
    let bound = part.saturating_mul(HELD_PARTS);
    let mut reading = Reading::new(window(args), args.accounts())
        .inflating_beside()
        .marked(mark_every(part));
    let mut holding = Holding::within(bound);
    let mut count = |mut g: Gathered| {
        for e in g.errors.drain(..) {
            eprintln!("error: {}", one_line(&e.to_string()));
        }
        holding.add(g, policy, crate::render::FIRST_ROWS);
    };
    let mut send = |_: u64, g: Gathered| {
        count(g);
        true
    };
    let cut = &mut Cut::every(part, &mut send);
    let stop = AtomicBool::new(false);
    let unread = read_sources(cli, sources, aws, &mut reading, cut, Voice::First, &stop)?;
    count(reading.take());
    let counts = Counts {
        stats: reading.stats().clone(),
        unopened: unread.unopened,
    };
    Ok(match holding {
        Holding::Counted(overview) => FirstPass::Counted(overview, counts),
        Holding::Held { found, .. } => {
            let planned = plan_gathered(cli, args, aws, Some(audit), None, policy, found)?;
            FirstPass::Whole(planned, counts)
        }
    })
}

/// What was read, planned with what earlier runs (or earlier parts of
/// this one, begun at `run`) left in the store: Identity Center users
/// named, session hops, parents' creators, later creations.
fn plan_gathered(
    cli: &Cli,
    args: &InputArgs,
    aws: &LazyAws,
    audit: Option<(&Audit, bool)>,
    run: Option<&str>,
    policy: &Policy,
    mut held: Gathered,
) -> Result<Planned> {
    let named = match args.identity_store_region.as_deref() {
        Some(region) => Some((aws.get()?, region)),
        None => None,
    };
    let directory = named.map(|(aws, region)| Directory::new(&aws.clients, region));
    // Sessions and parents from earlier runs: the store is written only by
    // a run that records (`apply`).
    let chains = std::mem::take(&mut held.chains);
    let (store, keep) = (audit.map(|(a, _)| &a.store), audit.is_some_and(|a| a.1));
    let planning = plan_part(
        directory.as_ref(),
        store,
        policy,
        &held.creations,
        chains,
        keep,
        run,
    );
    // The directory's calls run where the AWS clients live; the store's
    // where it does; with neither, nothing waits on any input or output.
    let part = match (named, audit) {
        (Some((aws, _)), _) => aws.runtime.block_on(planning),
        (None, Some((a, _))) => a.run(planning),
        (None, None) => futures::executor::block_on(planning),
    };
    for e in &part.unnamed {
        eprintln!("warning: {}: named by id", one_line(e));
    }
    // A store that cannot answer leaves them to these sources alone (said);
    // its failure to record is `apply`'s to report, after the writes, with
    // nothing lost.
    if let Err(e) = &part.store {
        eprintln!(
            "warning: {}: session hops and parents' creators come from these sources only",
            one_line(&e.to_string())
        );
    }
    let plan = part.plan;
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
    })
}

/// Reads `sources` again, in parts of about `part` things found, handing
/// each part's plan to `settle` as it is read: memory holds one part. Each
/// part is planned with the store, where the earlier parts kept their
/// session hops and recorded their creations. A part that fails to settle
/// stops the reading there: its error is returned. What this second
/// reading could not read that the first could (an object that broke off,
/// a file gone) is said and counted in the returned [`Counts`].
pub fn read_in_parts(
    reader: &Rereader<'_>,
    first: &Counts,
    settle: &mut dyn FnMut(Planned) -> Result<()>,
) -> Result<Counts> {
    let Rereader {
        cli,
        sources,
        args,
        aws,
        audit,
        policy,
        part,
    } = *reader;
    let run = tagwarden_store::rows::now();
    let mut reading = Reading::new(window(args), args.accounts())
        .inflating_beside()
        .marked(mark_every(part.get()));
    let stop = AtomicBool::new(false);
    let mut failed = None;
    let mut one = |g: Gathered| {
        let planned = plan_gathered(cli, args, aws, Some((audit, true)), Some(&run), policy, g);
        if let Err(e) = planned.and_then(&mut *settle) {
            failed = Some(e);
            stop.store(true, Ordering::Relaxed);
        }
        failed.is_none()
    };
    let mut send = |_: u64, g: Gathered| one(g);
    let cut = &mut Cut::every(part.get(), &mut send);
    let unread = read_sources(cli, sources, aws, &mut reading, cut, Voice::Again, &stop)?;
    if !stop.load(Ordering::Relaxed) {
        one(reading.take());
    }
    if let Some(e) = failed {
        return Err(e);
    }
    let mut counts = Counts::default();
    for name in unread.unopened {
        if !first.unopened.contains(&name) {
            eprintln!(
                "error: {}: when read again; its records are not applied",
                one_line(&name)
            );
            counts.unopened.push(name);
        }
    }
    for why in unread.broken {
        eprintln!(
            "error: {}: broke off when read again; its records after that point are not applied",
            one_line(&why)
        );
        counts.unopened.push(why);
    }
    Ok(counts)
}

/// What [`read_in_parts`] reads again, and with what.
#[derive(Clone, Copy)]
pub struct Rereader<'r> {
    pub cli: &'r Cli,
    pub sources: &'r Sources,
    pub args: &'r InputArgs,
    pub aws: &'r LazyAws<'r>,
    pub audit: &'r Audit,
    pub policy: &'r Policy,
    pub part: NonZeroUsize,
}
