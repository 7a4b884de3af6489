//! `tagwarden policy check`: valid files are summarised, invalid ones are
//! placed by line and field.

use crate::support::{repo, tagwarden, temp_dir};

#[test]
fn the_bundled_policies_are_valid() {
    for name in ["default.yaml", "extended.yaml"] {
        let path = repo().join("policies").join(name).display().to_string();
        let run = tagwarden(&["policy", "check", &path]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(run.stdout.contains(": valid"), "{}", run.stdout);
    }
    let path = repo().join("policies/default.yaml").display().to_string();
    let run = tagwarden(&["policy", "check", &path]);
    assert!(
        run.stdout
            .contains("required:    Application, Environment, Owner"),
        "{}",
        run.stdout
    );
}

#[test]
fn an_invalid_policy_names_its_line_and_field() {
    let dir = temp_dir("policy-check");
    let cases = [
        (
            "compliance:\n  required:\n    Owner: {}\n    App: { pattern: \"[\" }\n",
            ":4: compliance.required.App.pattern: ",
        ),
        (
            "attribution:\n  tags:\n    CreatedBy: \"{creator.nope}\"\n",
            ":3: attribution.tags.CreatedBy: ",
        ),
        (
            "compliance:\n  resource_types:\n    - ec2:instance\n    - s3\n",
            ":2: compliance.resource_types[1]: ",
        ),
        // The YAML reader's own errors carry their line in the message.
        ("compliance:\n  requird: {}\n", "line 2"),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let path = dir.join(format!("p{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let run = tagwarden(&["policy", "check", &path.display().to_string()]);
        assert_eq!(run.code, 2, "{text}");
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{}", run.stderr);
        assert!(errors[0].contains(want), "{text}: {}", errors[0]);
        assert!(errors[0].contains(&format!("p{i}.yaml")), "{}", errors[0]);
    }
}

#[test]
fn an_imported_organizations_policy_checks_valid_and_keeps_required_keys() {
    let dir = temp_dir("import-org");
    let org = dir.join("org.json");
    std::fs::write(
        &org,
        r#"{ "tags": { "costcenter": { "tag_key": { "@@assign": "CostCenter" },
            "tag_value": { "@@assign": [ "100", "200", "300*" ] },
            "enforced_for": { "@@assign": [ "secretsmanager:ALL_SUPPORTED" ] } },
          "owner": { "tag_key": { "@@assign": "Owner" } } } }"#,
    )
    .unwrap();
    let org = org.display().to_string();
    let run = tagwarden(&["policy", "import-org", &org, "--require", "owner"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let converted = dir.join("converted.yaml");
    std::fs::write(&converted, &run.stdout).unwrap();
    let check = tagwarden(&["policy", "check", &converted.display().to_string()]);
    assert_eq!(check.code, 0, "{}\n{}", check.stderr, run.stdout);
    assert!(
        check.stdout.contains("required:    Owner"),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains("optional:    CostCenter"),
        "{}",
        check.stdout
    );
    let bad = tagwarden(&["policy", "import-org", &org, "--require", "Team"]);
    assert_eq!(bad.code, 2);
    assert!(bad.errors()[0].contains("--require"), "{}", bad.stderr);
}
