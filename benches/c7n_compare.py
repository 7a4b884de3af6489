#!/usr/bin/env python3
"""`tagwarden scan` side by side with Cloud Custodian on the same moto.

Seeds one region with a known mix of EC2 instances, EBS volumes, S3 buckets
and RDS instances, a known share of them non-compliant (missing keys, a
wrong value, no tags at all); runs `custodian run --cache-period 0` with
filters equivalent to tagwarden's policy, and `tagwarden scan`; checks that
both find exactly the seeded non-compliant set; and prints, for each tool,
client CPU (user + sys of the process and its children), wall time and API
calls (moto's recorder). Called by benches/c7n_compare.sh.

Usage: c7n_compare.py TAGWARDEN_BIN CUSTODIAN_BIN WORKDIR [INSTANCES]
"""
import json
import os
import resource
import subprocess
import sys
import time
import urllib.request

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = "us-east-1"
ACCOUNT = "123456789012"
ALLOWED = ["dev", "staging", "prod"]
REQUIRED = ["Environment", "Owner", "Application"]
GOOD = {"Environment": "prod", "Owner": "alice", "Application": "billing"}

TAGWARDEN_POLICY = """\
compliance:
  resource_types: ["ec2:instance", "ec2:volume", "s3:bucket", "rds:db"]
  required:
    Environment: { allowed: [dev, staging, prod] }
    Owner: {}
    Application: {}
"""

# c7n resource -> (tagwarden type, how c7n names the id).
RESOURCES = {
    "aws.ec2": ("ec2:instance", "InstanceId"),
    "aws.ebs": ("ec2:volume", "VolumeId"),
    "aws.s3": ("s3:bucket", "Name"),
    "aws.rds": ("rds:db", "DBInstanceArn"),
}


def c7n_policies():
    filters = [{"or": [{f"tag:{k}": "absent"} for k in REQUIRED]
                      + [{"type": "value", "key": "tag:Environment", "op": "not-in", "value": ALLOWED}]}]
    lines = ["policies:"]
    for resource in RESOURCES:
        name = "untagged-" + resource.split(".")[1]
        lines.append(f"  - name: {name}\n    resource: {resource}\n    filters: {json.dumps(filters)}")
    return "\n".join(lines) + "\n"


def mix(n):
    """Tags for the n-th resource: 60% compliant, then missing Owner, a
    wrong Environment value, and no tags at all."""
    k = n % 10
    if k < 6:
        return dict(GOOD), True
    if k < 8:
        return {x: v for x, v in GOOD.items() if x != "Owner"}, False
    if k < 9:
        return dict(GOOD, Environment="production"), False
    return {}, False


def seed(instances):
    s = boto3.Session(region_name=REGION)
    ec2 = s.client("ec2", endpoint_url=ENDPOINT)
    s3 = s.client("s3", endpoint_url=ENDPOINT)
    rds = s.client("rds", endpoint_url=ENDPOINT)
    tl = lambda tags: [{"Key": k, "Value": v} for k, v in tags.items()]
    bad = set()
    total = {}
    # One RunInstances per tag shape: 100 instances per call.
    shapes = {}
    for n in range(instances):
        tags, ok = mix(n)
        shapes.setdefault(json.dumps(tags, sort_keys=True), [0, ok])[0] += 1
    for shape, (count, ok) in shapes.items():
        tags = json.loads(shape)
        while count:
            k = min(count, 100)
            spec = [{"ResourceType": "instance", "Tags": tl(tags)}] if tags else []
            out = ec2.run_instances(ImageId="ami-12c6146b", MinCount=k, MaxCount=k, TagSpecifications=spec)
            for i in out["Instances"]:
                arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{i['InstanceId']}"
                if not ok:
                    bad.add(arn)
            count -= k
    total["ec2:instance"] = instances
    volumes = instances // 5
    for n in range(volumes):
        tags, ok = mix(n)
        spec = [{"ResourceType": "volume", "Tags": tl(tags)}] if tags else []
        v = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1, TagSpecifications=spec)
        if not ok:
            bad.add(f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{v['VolumeId']}")
    total["ec2:volume"] = volumes
    buckets = max(instances // 10, 10)
    for n in range(buckets):
        tags, ok = mix(n)
        name = f"c7n-compare-{n:04d}"
        s3.create_bucket(Bucket=name)
        if tags:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tl(tags)})
        if not ok:
            bad.add(f"arn:aws:s3:::{name}")
    total["s3:bucket"] = buckets
    dbs = max(instances // 20, 10)
    for n in range(dbs):
        tags, ok = mix(n)
        db = rds.create_db_instance(DBInstanceIdentifier=f"c7n-compare-{n:03d}", DBInstanceClass="db.t3.micro",
                                    Engine="postgres", AllocatedStorage=20, MasterUsername="u",
                                    MasterUserPassword="password123", Tags=tl(tags))
        if not ok:
            bad.add(db["DBInstance"]["DBInstanceArn"])
    total["rds:db"] = dbs
    # RunInstances gives each instance an untagged root volume: part of the
    # mix, non-compliant, and both tools must find them.
    explicit = total["ec2:volume"]
    for page in ec2.get_paginator("describe_volumes").paginate():
        for v in page["Volumes"]:
            if v.get("Attachments") and not v.get("Tags"):
                bad.add(f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{v['VolumeId']}")
                total["ec2:volume"] += 1
    assert total["ec2:volume"] == explicit + instances, total
    return bad, total


def recorder(action):
    req = urllib.request.Request(f"{ENDPOINT}/moto-api/recorder/{action}", method="POST" if action != "download-recording" else "GET")
    with urllib.request.urlopen(req) as r:
        return r.read().decode()


def calls_by_operation():
    """Requests moto recorded since the last reset, by "service Operation"
    (one JSON object each; two may share a line)."""
    import base64
    import re
    import urllib.parse
    text = recorder("download-recording")
    dec = json.JSONDecoder()
    i, ops = 0, {}
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        r, i = dec.raw_decode(text, i)
        headers = r.get("headers") or {}
        auth = headers.get("Authorization", "")
        m = re.search(r"Credential=[^/]+/[^/]+/[^/]+/([^/]+)/", auth)
        service = m.group(1) if m else "?"
        body = r.get("body") or ""
        if r.get("body_encoded"):
            body = base64.b64decode(body).decode("utf-8", "replace")
        target = headers.get("X-Amz-Target", "")
        if target:
            op = target.rsplit(".", 1)[-1]
        elif "Action=" in body:
            op = urllib.parse.parse_qs(body).get("Action", ["?"])[0]
        else:
            url = urllib.parse.urlparse(r.get("url", ""))
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            if "x-id" in query:
                ops_name = query["x-id"][0]
                key = f"{service} {ops_name}"
                ops[key] = ops.get(key, 0) + 1
                continue
            sub = next(iter(query), "") if query else ""
            op = f"{r.get('method')} {'bucket' if url.path.strip('/') else '/'}{'?' + sub if sub else ''}"
        key = f"{service} {op}"
        ops[key] = ops.get(key, 0) + 1
    return ops


def measure(cmd, env):
    recorder("reset-recording")
    recorder("start-recording")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    recorder("stop-recording")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    ops = calls_by_operation()
    return out, {"cpu": round(cpu, 3), "wall": round(wall, 2), "calls": sum(ops.values()),
                 "by_operation": dict(sorted(ops.items(), key=lambda kv: -kv[1]))}


def main():
    tagwarden, custodian, work = sys.argv[1:4]
    instances = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    os.makedirs(work, exist_ok=True)
    bad, total = seed(instances)
    env = dict(os.environ, AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION)

    policy = os.path.join(work, "tagwarden.yaml")
    open(policy, "w").write(TAGWARDEN_POLICY)
    tw_out, tw = measure([tagwarden, "-q", "scan", "--regions", REGION, "--policy", policy,
                          "--format", "json"], env)
    if tw_out.returncode not in (0, 1):
        sys.exit(f"tagwarden failed: {tw_out.stderr}")
    tw_found = {f["arn"] for f in json.loads(tw_out.stdout) if not f["compliant"]}

    c7n_policy = os.path.join(work, "c7n.yaml")
    open(c7n_policy, "w").write(c7n_policies())
    out_dir = os.path.join(work, "c7n-out")
    c7n_out, c7n = measure([custodian, "run", "--cache-period", "0", "-r", REGION, "-s", out_dir, c7n_policy], env)
    if c7n_out.returncode != 0:
        sys.exit(f"custodian failed: {c7n_out.stderr[-4000:]}")
    c7n_found = set()
    for resource_name, (_, id_key) in RESOURCES.items():
        name = "untagged-" + resource_name.split(".")[1]
        for r in json.load(open(os.path.join(out_dir, name, "resources.json"))):
            rid = r[id_key]
            if resource_name == "aws.ec2":
                rid = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{rid}"
            elif resource_name == "aws.ebs":
                rid = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{rid}"
            elif resource_name == "aws.s3":
                rid = f"arn:aws:s3:::{rid}"
            c7n_found.add(rid)

    ok_tw = tw_found == bad
    ok_c7n = c7n_found == bad
    report = {
        "resources": total,
        "non_compliant": len(bad),
        "tagwarden": dict(tw, found=len(tw_found), exact=ok_tw),
        "custodian": dict(c7n, found=len(c7n_found), exact=ok_c7n),
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    if not ok_tw:
        print("tagwarden differs:", sorted(tw_found ^ bad)[:10], file=sys.stderr)
    if not ok_c7n:
        print("custodian differs:", sorted(c7n_found ^ bad)[:10], file=sys.stderr)
    sys.exit(0 if ok_tw and ok_c7n else 1)


if __name__ == "__main__":
    main()
