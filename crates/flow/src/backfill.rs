//! The distributed backfill from the command line's side: start or resume
//! an execution of the template's Distributed Map, and follow it to its
//! end. Step Functions schedules; tagwarden only asks and watches.

use std::time::Duration;
use tagwarden_aws::engine::{Engine, Status};
use tagwarden_aws::error::{CallError, ErrorKind};
use tagwarden_aws::s3_source::{self, DateRange, S3Client};
use tagwarden_core::backfill::{Estimate, Request};

/// What an execution of `request` will read, listed now: the objects under
/// its prefix of the days the function keeps, and the function's cost.
pub async fn survey(
    client: &S3Client,
    bucket: &str,
    request: &Request,
) -> Result<Estimate, CallError> {
    let days = DateRange {
        first: request.first_day.clone(),
        last: request.last_day.clone(),
    };
    let objects = s3_source::list(client, bucket, &request.prefix, &days).await?;
    Ok(Estimate::of(
        objects.len() as u64,
        objects.iter().map(|o| o.size).sum(),
    ))
}

/// An execution name unique per start, within Step Functions' 80
/// characters.
pub fn execution_name(what: &str) -> String {
    let now = jiff::Timestamp::now();
    format!(
        "tagwarden-{what}-{}-{:09}",
        now.strftime("%Y%m%dT%H%M%S"),
        now.subsec_nanosecond()
    )
}

/// An execution under way, and how it came to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub execution: String,
    /// Redriven in place, rather than started anew from its input.
    pub redriven: bool,
}

/// The state machine an execution ARN belongs to
/// (`…:execution:NAME:ID` → `…:stateMachine:NAME`).
pub fn machine_of(execution: &str) -> Option<String> {
    let mut f: Vec<&str> = execution.splitn(8, ':').collect();
    if f.len() < 8 || f[0] != "arn" || f[2] != "states" || f[5] != "execution" {
        return None;
    }
    f[5] = "stateMachine";
    f.truncate(7);
    Some(f.join(":"))
}

/// Resumes a stopped or failed execution. A redrive runs only the batches
/// it left; where Step Functions does not redrive it (past its 14 days,
/// stopped before the Map, an engine without redrives), a new execution
/// starts from the same input, and the function's checkpoints pass over
/// the logs already read: starting anew is always safe, only slower. A
/// denial is said, not worked around, and a running execution is left to
/// run.
pub async fn resume<E: Engine>(
    engine: &E,
    execution: &str,
    name: &str,
) -> Result<Started, CallError> {
    let status = engine.status(execution).await?;
    if status.state.is_running() {
        return Err(CallError::of_kind(
            ErrorKind::Validation,
            "ExecutionRunning",
            format!(
                "{execution} is {}: follow it instead",
                status.state.as_str()
            ),
        ));
    }
    match engine.redrive(execution).await {
        Ok(()) => Ok(Started {
            execution: execution.to_string(),
            redriven: true,
        }),
        Err(e) if e.kind == ErrorKind::Permission => Err(e),
        Err(_) => {
            let machine = machine_of(execution).ok_or_else(|| {
                CallError::of_kind(ErrorKind::Validation, "NotAnExecution", execution)
            })?;
            let input = status.input.ok_or_else(|| {
                CallError::of_kind(
                    ErrorKind::Other,
                    "NoInput",
                    "the execution's input is not given",
                )
            })?;
            let started = engine.start(&machine, name, &input).await?;
            Ok(Started {
                execution: started,
                redriven: false,
            })
        }
    }
}

/// Watches `execution` every `every` until it ends, handing each status to
/// `seen` (a progress bar); returns the last.
pub async fn follow<E: Engine>(
    engine: &E,
    execution: &str,
    every: Duration,
    mut seen: impl FnMut(&Status),
) -> Result<Status, CallError> {
    loop {
        let status = engine.status(execution).await?;
        seen(&status);
        if !status.state.is_running() {
            return Ok(status);
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use tagwarden_aws::engine::{Items, RunState};

    /// An engine that answers from a script.
    #[derive(Default)]
    struct Script {
        statuses: Mutex<Vec<Status>>,
        redrive: Option<CallError>,
        started: Mutex<Vec<(String, String)>>,
    }

    impl Engine for Script {
        async fn start(
            &self,
            machine: &str,
            _name: &str,
            input: &str,
        ) -> Result<String, CallError> {
            self.started
                .lock()
                .unwrap()
                .push((machine.into(), input.into()));
            Ok(format!(
                "{}:new",
                machine.replace("stateMachine", "execution")
            ))
        }
        async fn redrive(&self, _execution: &str) -> Result<(), CallError> {
            match &self.redrive {
                None => Ok(()),
                Some(e) => Err(e.clone()),
            }
        }
        async fn status(&self, _execution: &str) -> Result<Status, CallError> {
            let mut s = self.statuses.lock().unwrap();
            Ok(if s.len() > 1 {
                s.remove(0)
            } else {
                s[0].clone()
            })
        }
    }

    fn status(state: RunState, done: i64) -> Status {
        Status {
            state,
            input: Some(r#"{"Prefix":"AWSLogs/"}"#.into()),
            items: Some(Items {
                total: 100,
                succeeded: done,
                ..Items::default()
            }),
            cause: None,
        }
    }

    const EXECUTION: &str =
        "arn:aws:states:eu-west-1:111122223333:execution:tagwarden-backfill-dev:run-1";

    #[tokio::test]
    async fn following_sees_the_items_grow_until_the_execution_ends() {
        let engine = Script {
            statuses: Mutex::new(vec![
                status(RunState::Running, 0),
                status(RunState::Running, 40),
                status(RunState::Succeeded, 100),
            ]),
            ..Script::default()
        };
        let mut seen = Vec::new();
        let last = follow(&engine, EXECUTION, Duration::ZERO, |s| {
            seen.push(s.items.unwrap().done())
        })
        .await
        .unwrap();
        assert_eq!(seen, [0, 40, 100]);
        assert_eq!(last.state, RunState::Succeeded);
    }

    #[tokio::test]
    async fn a_resume_redrives_and_starts_anew_only_where_a_redrive_is_refused() {
        let engine = Script {
            statuses: Mutex::new(vec![status(RunState::Aborted, 40)]),
            ..Script::default()
        };
        let got = resume(&engine, EXECUTION, "resume-1").await.unwrap();
        assert_eq!((got.execution.as_str(), got.redriven), (EXECUTION, true));

        let refused = Script {
            statuses: Mutex::new(vec![status(RunState::Aborted, 40)]),
            redrive: Some(CallError::new(
                "ExecutionNotRedrivable",
                "older than 14 days",
            )),
            ..Script::default()
        };
        let got = resume(&refused, EXECUTION, "resume-1").await.unwrap();
        assert!(!got.redriven);
        assert_eq!(
            refused.started.lock().unwrap().as_slice(),
            [(
                "arn:aws:states:eu-west-1:111122223333:stateMachine:tagwarden-backfill-dev"
                    .to_string(),
                r#"{"Prefix":"AWSLogs/"}"#.to_string()
            )]
        );

        let running = Script {
            statuses: Mutex::new(vec![status(RunState::Running, 40)]),
            ..Script::default()
        };
        assert!(resume(&running, EXECUTION, "resume-1").await.is_err());

        let denied = Script {
            statuses: Mutex::new(vec![status(RunState::Aborted, 40)]),
            redrive: Some(CallError::new("AccessDeniedException", "no")),
            ..Script::default()
        };
        assert!(resume(&denied, EXECUTION, "resume-1").await.is_err());
        assert!(denied.started.lock().unwrap().is_empty());
    }

    #[test]
    fn an_execution_names_its_state_machine() {
        assert_eq!(
            machine_of(EXECUTION).as_deref(),
            Some("arn:aws:states:eu-west-1:111122223333:stateMachine:tagwarden-backfill-dev")
        );
        assert_eq!(machine_of("arn:aws:s3:::bucket"), None);
    }
}
