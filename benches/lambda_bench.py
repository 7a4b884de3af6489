"""The Lambda function's packaging figures: the zip's size, init time
(process start to its first request for an event), and one large
invocation's duration and peak memory, against moto.

Serves the Lambda Runtime API itself (next / response / error) on 127.0.0.1
and runs the release `bootstrap` as Lambda would. Prints Markdown rows for
docs/benchmarks.md.

Usage: lambda_bench.py BOOTSTRAP TAGWARDEN WORLD_PY (env from scripts/lib/moto.sh;
LAMBDA_BENCH_ARCH labels the rows, LAMBDA_BENCH_RUNNER runs the binary under
an emulator, e.g. qemu-aarch64-static)
"""
import gzip
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile

import boto3

from runtime_api import Api

BOOTSTRAP, TAGWARDEN, WORLD_PY = sys.argv[1:4]
ARCH = os.environ.get("LAMBDA_BENCH_ARCH", "x86_64")
RUNNER = [r for r in [os.environ.get("LAMBDA_BENCH_RUNNER", "")] if r]
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
ACCOUNT = "123456789012"
INIT_RUNS = 20
INSTANCES = 1000
NOISE = 200_000
SINGLE_RUNS = 5


def start(api, env):
    full = dict(os.environ, AWS_LAMBDA_RUNTIME_API=api.address, AWS_LAMBDA_FUNCTION_NAME="bench",
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
                AWS_LAMBDA_LOG_FORMAT="JSON", AWS_LAMBDA_LOG_LEVEL="WARN", **env)
    return subprocess.Popen(RUNNER + [BOOTSTRAP], env=full, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def zip_size():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(BOOTSTRAP, "bootstrap")
    return os.path.getsize(BOOTSTRAP), len(buf.getvalue())


def init_times(env):
    out = []
    for _ in range(INIT_RUNS):
        api = Api()
        t0 = time.perf_counter()
        p = start(api, env)
        while api.first_poll is None:
            if p.poll() is not None:
                sys.exit(f"bootstrap exited: {p.stdout.read().decode()}")
            time.sleep(0.0005)
        out.append((api.first_poll - t0) * 1000)
        p.kill()
        p.wait()
        api.server.shutdown()
    return out


def template_record(work):
    """A RunInstances record of the bulk world, as CloudTrail wrote it."""
    for root, _, files in os.walk(os.path.join(work, "logs")):
        for f in files:
            with gzip.open(os.path.join(root, f), "rt") as g:
                return json.load(g)["Records"][0]


def big_log(work):
    """The bulk world's RunInstances record(s) among NOISE read-only records:
    one gzip file, as a trail writes them."""
    logs = os.path.join(work, "logs")
    subprocess.run([sys.executable, WORLD_PY, "bulk", ACCOUNT, "us-east-1", str(INSTANCES), "0", "lbench", logs],
                   check=True, stdout=subprocess.DEVNULL)
    records = []
    for root, _, files in os.walk(logs):
        for f in files:
            with gzip.open(os.path.join(root, f), "rt") as g:
                records += json.load(g)["Records"]
    template = dict(records[0], eventName="DescribeInstances", readOnly=True,
                    requestParameters={"instancesSet": {}, "filterSet": {}}, responseElements=None)
    path = os.path.join(work, f"{ACCOUNT}_CloudTrail_us-east-1_20261120T1000Z_bench.json.gz")
    with gzip.open(path, "wt", compresslevel=6) as g:
        g.write('{"Records":[')
        for n in range(NOISE):
            g.write(json.dumps(dict(template, eventID=str(uuid.uuid4()))) + ",")
            if n == NOISE // 2:
                g.write(",".join(json.dumps(r) for r in records) + ",")
        g.write(json.dumps(dict(template, eventID=str(uuid.uuid4()))) + "]}")
    return path, NOISE + 1 + len(records)


def main():
    size, zipped = zip_size()
    env = {"TAGWARDEN_ENVIRONMENT": "bench", "TAGWARDEN_TABLE_SUFFIX": "lbench"}
    inits = sorted(init_times(env))
    print("| measure | figure | target |")
    print("|---|---:|---:|")
    under = f", under {RUNNER[0]}" if RUNNER else ""
    print(f"| `bootstrap` (cargo lambda build --release, {ARCH}{under}) | {size / 2**20:.1f} MiB | |")
    print(f"| zip (deflate) | {zipped / 2**20:.1f} MiB | ≤ 15 MB |")
    print(f"| init, process start → first `next` (median / p90 of {INIT_RUNS}) | "
          f"{statistics.median(inits):.1f} ms / {inits[int(len(inits) * 0.9) - 1]:.1f} ms | ≤ 20 ms |")

    subprocess.run([TAGWARDEN, "store", "init", "--store", "dynamodb:lbench"], check=True,
                   stderr=subprocess.DEVNULL)
    work = tempfile.mkdtemp()
    path, nrecords = big_log(work)
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT)
    s3.create_bucket(Bucket="lbench-trail")
    key = f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/20/{os.path.basename(path)}"
    s3.upload_file(path, "lbench-trail", key)
    gz_mib = os.path.getsize(path) / 2**20
    with gzip.open(path, "rb") as g:
        raw_mib = sum(len(c) for c in iter(lambda: g.read(1 << 20), b"")) / 2**20
    note = {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                         "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "lbench-trail"}, "object": {"key": key, "size": 1}}}]}
    api = Api()
    p = start(api, dict(env, TAGWARDEN_TRAIL_BUCKET="lbench-trail"))
    rows = []
    for rid in ["first", "replay"]:
        t0 = time.perf_counter()
        api.events.put((rid, note))
        path_, t1, body = api.answers.get(timeout=600)
        if not path_.endswith("/response"):
            sys.exit(f"{rid} failed: {body.decode()}")
        rows.append((rid, (t1 - t0) * 1000, json.loads(body)))
    # One API call from EventBridge: a fresh instance each time.
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=ENDPOINT)
    single = []
    for n in range(SINGLE_RUNS):
        i = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        rec = dict(template_record(work), eventID=str(uuid.uuid4()),
                   responseElements={"instancesSet": {"items": [{"instanceId": i}]}})
        event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": "AWS API Call via CloudTrail",
                 "source": "aws.ec2", "account": ACCOUNT, "region": "us-east-1", "time": rec["eventTime"],
                 "resources": [], "detail": rec}
        t0 = time.perf_counter()
        api.events.put((f"single-{n}", event))
        path_, t1, body = api.answers.get(timeout=600)
        if not path_.endswith("/response") or json.loads(body)["tagged"] != 1:
            sys.exit(f"single event: {body.decode()}")
        single.append((t1 - t0) * 1000)
    rss = peak_rss_mib(p.pid)
    p.kill()
    p.wait()
    for rid, ms, answer in rows:
        print(f"| invocation ({rid}): one {gz_mib:.1f} MiB log ({raw_mib:.0f} MiB JSON, {nrecords:,} records), "
              f"{answer['tagged']} tagged, {answer['skipped']} skipped | {ms:,.0f} ms | |")
    print(f"| invocation: one EventBridge API-call event, one instance tagged (median of {SINGLE_RUNS}) | "
          f"{statistics.median(single):,.0f} ms | |")
    print(f"| peak RSS over all invocations | {rss:.1f} MiB | runs in 128 MB |")


if __name__ == "__main__":
    main()
