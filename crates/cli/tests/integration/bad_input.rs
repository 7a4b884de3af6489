//! The bad-input corpus (`tests/bad-input/`, written by its `make.py`): every
//! case gives one-line errors naming file, record and field, never a panic,
//! and the good records around the damage are still planned.

use crate::support::*;

struct Case {
    file: &'static str,
    /// Substrings, one per expected error line, in order.
    errors: &'static [&'static str],
    /// Resources still planned.
    planned: usize,
}

const CASES: &[Case] = &[
    Case {
        file: "truncated.json.gz",
        errors: &["Records[174].eventID: cannot read: incomplete deflate stream"],
        planned: 174,
    },
    Case {
        file: "invalid-json.json",
        errors: &["Records[1].eventID: invalid JSON: expected a key, found 'o'"],
        planned: 2,
    },
    Case {
        file: "missing-fields.json",
        errors: &[
            "Records[1].eventTime: missing or empty",
            "Records[2].userIdentity.type: invalid type: integer `7`",
        ],
        planned: 2,
    },
    Case {
        file: "not-cloudtrail.json",
        errors: &["$: not CloudTrail"],
        planned: 0,
    },
    Case {
        file: "huge-string.json.gz",
        errors: &["Records[1].requestParameters: record is larger than 8 MiB"],
        planned: 2,
    },
    Case {
        file: "odd-unicode.json",
        errors: &[
            "Records[1].requestParameters.bucketName:",
            "Records[2].requestParameters.bucketName:",
        ],
        planned: 2,
    },
    Case {
        file: "corrupt-gzip.json.gz",
        errors: &["document: cannot read: corrupt deflate stream"],
        planned: 0,
    },
    Case {
        file: "binary.json",
        errors: &["document: not JSON"],
        planned: 0,
    },
    Case {
        file: "empty.json",
        errors: &["document: the file is empty"],
        planned: 0,
    },
    Case {
        file: "wrong-shape.json",
        errors: &[
            "Records[1].responseElements.instancesSet.items[].instanceId: no resource id here",
        ],
        planned: 2,
    },
];

fn corpus() -> std::path::PathBuf {
    repo().join("crates/cli/tests/bad-input")
}

#[test]
fn every_bad_input_case_is_reported_precisely_and_the_rest_is_planned() {
    let mut problems = vec![];
    for case in CASES {
        let path = format!("crates/cli/tests/bad-input/{}", case.file);
        let run = tagwarden(&["plan", &path, "--format", "json"]);
        if run.code != 2 {
            problems.push(format!("{}: exit {} (want 2)", case.file, run.code));
        }
        let errors = run.errors();
        if errors.len() != case.errors.len() {
            problems.push(format!(
                "{}: {} error lines: {errors:#?}",
                case.file,
                errors.len()
            ));
        }
        for (line, want) in errors.iter().zip(case.errors) {
            let prefix = format!("error: {path}: ");
            if !line.starts_with(&prefix) || !line.contains(want) {
                problems.push(format!(
                    "{}: `{line}` lacks `{prefix}` … `{want}`",
                    case.file
                ));
            }
            if line.len() > 500 {
                problems.push(format!("{}: a {}-byte error line", case.file, line.len()));
            }
        }
        let planned = run.json().as_array().map_or(0, Vec::len);
        if planned != case.planned {
            problems.push(format!(
                "{}: planned {planned}, want {}",
                case.file, case.planned
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_corpus_and_the_table_agree() {
    let mut on_disk: Vec<String> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json") || n.ends_with(".gz"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = CASES.iter().map(|c| c.file.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every file in the corpus has a case, and back"
    );
}

#[test]
fn one_bad_file_does_not_stop_the_others() {
    let run = tagwarden(&[
        "plan",
        "crates/cli/tests/bad-input/binary.json",
        "crates/cli/tests/bad-input/invalid-json.json",
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 2);
    assert_eq!(run.errors().len(), 2);
    assert_eq!(run.json().as_array().unwrap().len(), 2);
}
