//! SOURCE arguments → readable inputs, in a stable order, listed once.

use crate::access::LazyAws;
use crate::cli::InputArgs;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use tagwarden_aws::s3_source::{self, DateRange, Object, S3Client};

/// One input document, or an S3 prefix still to be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(PathBuf),
    /// An entry of a directory that cannot be walked (a symlink loop, no
    /// permission): reported as that entry's error, and the rest is read.
    Unreadable {
        path: PathBuf,
        why: String,
    },
    Stdin,
    /// Stdin, kept in a file to be read more than once.
    Kept(PathBuf),
    S3 {
        bucket: String,
        prefix: String,
    },
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::File(p) | Input::Unreadable { path: p, .. } => p.display().to_string(),
            Input::Stdin | Input::Kept(_) => "-".to_string(),
            Input::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }

    pub fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Input::File(p) | Input::Kept(p) => Box::new(File::open(p)?),
            Input::Stdin => Box::new(io::stdin()),
            Input::Unreadable { why, .. } => return Err(io::Error::other(why.clone())),
            Input::S3 { .. } => return Err(io::Error::other("S3 prefixes are listed, not opened")),
        })
    }

    /// Size on disk, for progress; 0 when unknown.
    pub fn size(&self) -> u64 {
        match self {
            Input::File(p) | Input::Kept(p) => p.metadata().map(|m| m.len()).unwrap_or(0),
            Input::Stdin | Input::Unreadable { .. } | Input::S3 { .. } => 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}: no such file or directory")]
    NotFound(String),
    #[error("{0}: not an S3 URL (s3://bucket/prefix)")]
    BadUrl(String),
}

/// Digest and Insight files sit under these folder names in a trail bucket.
fn is_skipped_dir(name: &str) -> bool {
    name == "CloudTrail-Digest" || name == "CloudTrail-Insight"
}

fn is_log_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    name.ends_with(".json") || name.ends_with(".json.gz") || name.ends_with(".gz")
}

/// Expands sources: directories recursively, sorted by path, skipping
/// digest and insight folders and files that are not JSON.
pub fn expand(sources: &[String]) -> Result<Vec<Input>, SourceError> {
    let mut out = Vec::new();
    for s in sources {
        if s == "-" {
            out.push(Input::Stdin);
            continue;
        }
        if s.starts_with("s3://") {
            let (bucket, prefix) = tagwarden_aws::s3_source::parse_url(s)
                .ok_or_else(|| SourceError::BadUrl(s.clone()))?;
            out.push(Input::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
            continue;
        }
        let path = Path::new(s);
        if path.is_dir() {
            let walk = walkdir::WalkDir::new(path)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    !(e.file_type().is_dir() && e.file_name().to_str().is_some_and(is_skipped_dir))
                });
            for entry in walk {
                match entry {
                    Ok(e) if e.file_type().is_file() && is_log_file(e.path()) => {
                        out.push(Input::File(e.into_path()))
                    }
                    Ok(_) => {}
                    Err(e) => out.push(Input::Unreadable {
                        path: e.path().unwrap_or(path).to_path_buf(),
                        why: e.to_string(),
                    }),
                }
            }
        } else if path.exists() {
            out.push(Input::File(path.to_path_buf()));
        } else {
            return Err(SourceError::NotFound(s.clone()));
        }
    }
    Ok(out)
}

/// A run's sources, listed: S3 prefixes are listed once (pruned by the
/// dates in their keys), so that a second reading reads the same objects.
pub struct Sources {
    pub(crate) inputs: Vec<Input>,
    pub(crate) objects: Vec<(S3Client, Object)>,
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
        let mut inputs = expand(sources)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_walked_sorted_without_digests() {
        let dir = std::env::temp_dir().join(format!("tw-sources-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for p in [
            "AWSLogs/1/CloudTrail/us-east-1/b.json.gz",
            "AWSLogs/1/CloudTrail/us-east-1/a.json",
            "AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz",
            "AWSLogs/1/CloudTrail-Insight/us-east-1/i.json.gz",
            "README.txt",
        ] {
            let f = dir.join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(&f, b"{}").unwrap();
        }
        let got = expand(&[dir.display().to_string()]).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|i| {
                i.name()
                    .trim_start_matches(&dir.display().to_string())
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "/AWSLogs/1/CloudTrail/us-east-1/a.json",
                "/AWSLogs/1/CloudTrail/us-east-1/b.json.gz"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A symlink loop is that entry's error; the rest is still read.
    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_is_one_unreadable_entry() {
        let dir = std::env::temp_dir().join(format!("tw-loop-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::write(dir.join("a/log.json"), b"{}").unwrap();
        std::fs::write(dir.join("z.json"), b"{}").unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("a/back")).unwrap();
        let got = expand(&[dir.display().to_string()]).unwrap();
        assert_eq!(got.len(), 3, "{got:?}");
        let Input::Unreadable { path, why } = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(path, &dir.join("a/back"));
        assert!(why.contains("loop"), "{why}");
        assert!(got[0].open().is_err());
        assert_eq!(got[1], Input::File(dir.join("a/log.json")));
        assert_eq!(got[2], Input::File(dir.join("z.json")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_paths_and_bad_s3_urls_are_usage_errors() {
        assert!(matches!(
            expand(&["/nope/x.json".into()]),
            Err(SourceError::NotFound(_))
        ));
        assert!(matches!(
            expand(&["s3:///p".into()]),
            Err(SourceError::BadUrl(_))
        ));
        assert_eq!(
            expand(&["s3://b/AWSLogs/".into()]).unwrap(),
            [Input::S3 {
                bucket: "b".into(),
                prefix: "AWSLogs/".into()
            }]
        );
    }
}
