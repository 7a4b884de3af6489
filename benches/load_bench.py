"""Load through the function (issue 19, point 2): N EventBridge creation
events (half EC2 instances, half log groups, created in moto first) in SQS
batches of 10, as the event queue hands them over, through a Runtime API to
the release `bootstrap`, against the template's stack deployed in moto.

Checks that every answer is clean, a sample of resources carries its tags,
and the same batches delivered again add no row to any table; measures the
function's own CPU (user + system, from /proc/PID/stat) per event for both
rounds, and what it implies in Lambda GB-seconds at 128 MB. Prints Markdown.

moto slows as its tables and instances grow (each call scans them), so a
large N runs in ROUNDS of N/ROUNDS events, each against a reset moto with
the stack deployed afresh and a new function process: the CPU is summed,
and a replay round follows each first round.

The function's own log goes to $TMPDIR/load-bootstrap-<bench pid>.log.

Usage: load_bench.py BOOTSTRAP WORLD_PY TRANSLATE_PY TEMPLATE N [ROUNDS]
(env from scripts/lib/moto.sh)
"""
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

from runtime_api import Api

BOOTSTRAP, WORLD_PY, TRANSLATE_PY, TEMPLATE, N = sys.argv[1:6]
N = int(N)
ROUNDS = int(sys.argv[6]) if len(sys.argv) > 6 else 1
ACCOUNT = "123456789012"
SUFFIX = "lload"
TICK = os.sysconf("SC_CLK_TCK")
# At 128 MB Lambda gives a function 128/1769 of a vCPU.
SHARE_128 = 128 / 1769


def world(*args):
    return json.loads(subprocess.run([sys.executable, WORLD_PY, *args], check=True,
                                     capture_output=True, text=True).stdout)


def cpu_split(pid):
    """User and system CPU of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def cpu_seconds(pid):
    """User + system CPU of the process so far."""
    return sum(cpu_split(pid))


def record(n, source, name, request, response):
    return {"eventVersion": "1.09", "eventTime": "2026-11-20T10:00:00Z", "eventSource": source,
            "eventName": name, "awsRegion": "us-east-1", "eventID": f"load-{n}", "readOnly": False,
            "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": ACCOUNT,
            "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
                             "accountId": ACCOUNT, "accessKeyId": "AKIAALICE00000000000"},
            "requestParameters": request, "responseElements": response}


def batches(instances, groups):
    records = [("aws.ec2", record(n, "ec2.amazonaws.com", "RunInstances", {"instanceType": "t3.micro"},
                                  {"instancesSet": {"items": [{"instanceId": i}]}}))
               for n, i in enumerate(instances)]
    records += [("aws.logs", record(len(instances) + n, "logs.amazonaws.com", "CreateLogGroup",
                                    {"logGroupName": arn.split(":log-group:", 1)[1]}, None))
                for n, arn in enumerate(groups)]
    out = []
    for start in range(0, len(records), 10):
        messages = []
        for source, r in records[start:start + 10]:
            envelope = {"version": "0", "id": f"eb-{r['eventID']}", "detail-type": "AWS API Call via CloudTrail",
                        "source": source, "account": ACCOUNT, "time": r["eventTime"], "region": "us-east-1",
                        "resources": [], "detail": r}
            messages.append({"messageId": f"m-{r['eventID']}", "receiptHandle": "h", "body": json.dumps(envelope),
                             "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                             "eventSource": "aws:sqs", "awsRegion": "us-east-1"})
        out.append({"Records": messages})
    return out


def rows(outputs):
    return [len(world("table-items", outputs[t]))
            for t in ["TagsMetadataTableName", "TagHistoryTableName", "UserActionsTableName"]]


def deliver(api, pid, name, payloads):
    """Delivers every batch, one at a time; returns the function's CPU and
    the wall time, and prints both per tenth of the batches to stderr: CPU
    per batch that grows with the tables' size is the function's doing,
    wall time that grows without it is moto's."""
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    tenth = max(1, len(payloads) // 10)
    mark = (cpu0, t0)
    for n, payload in enumerate(payloads):
        api.events.put((f"{name}-{n}", payload))
        path, _, body = api.answers.get(timeout=600)
        if not path.endswith("/response") or json.loads(body) != {"batchItemFailures": []}:
            sys.exit(f"{name} batch {n}: {path} {body.decode()}")
        if (n + 1) % tenth == 0 or n + 1 == len(payloads):
            cpu, now = cpu_seconds(pid), time.perf_counter()
            done = (n % tenth) + 1
            print(f"{name} batches ..{n + 1}: {(cpu - mark[0]) / done * 1000:.1f} ms CPU, "
                  f"{(now - mark[1]) / done * 1000:.0f} ms wall per batch", file=sys.stderr)
            mark = (cpu, now)
    user, system = cpu_split(pid)
    print(f"{name}: the process so far: {user:.2f} s user, {system:.2f} s system", file=sys.stderr)
    return cpu_seconds(pid) - cpu0, time.perf_counter() - t0


def reset_moto():
    """Every backend emptied: the next round starts as on a fresh server."""
    url = os.environ["AWS_ENDPOINT_URL"].rstrip("/") + "/moto-api/reset"
    urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=60).read()


def one_round(n, label):
    """Deploys the stack, creates n resources, delivers their events twice
    through a new function process; returns (first CPU, first wall, replay
    CPU, replay wall, rows after the first delivery, sample size)."""
    deployed = json.loads(subprocess.run([sys.executable, TRANSLATE_PY, TEMPLATE, "--deploy", SUFFIX],
                                         check=True, capture_output=True, text=True,
                                         env=dict(os.environ, AWS_DEFAULT_REGION="us-east-1")).stdout)
    outputs = deployed["outputs"]
    made = world("bulk", ACCOUNT, "us-east-1", str(n // 2), str(n - n // 2), SUFFIX, tempfile.mkdtemp())
    instances, groups = made["ec2"][:n // 2], made["log_groups"]
    payloads = batches(instances, groups)
    env = dict(os.environ, TAGWARDEN_ENVIRONMENT=SUFFIX,
               TAGWARDEN_TAGS_METADATA_TABLE=outputs["TagsMetadataTableName"],
               TAGWARDEN_TAG_HISTORY_TABLE=outputs["TagHistoryTableName"],
               TAGWARDEN_USER_ACTIONS_TABLE=outputs["UserActionsTableName"],
               TAGWARDEN_EVIDENCE_TABLE=outputs["EvidenceTableName"],
               TAGWARDEN_SESSIONS_TABLE=outputs["SessionsTableName"],
               AWS_LAMBDA_FUNCTION_NAME="load", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_FORMAT="JSON",
               AWS_LAMBDA_LOG_LEVEL="WARN")
    api = Api()
    env["AWS_LAMBDA_RUNTIME_API"] = api.address
    log = open(os.path.join(tempfile.gettempdir(), f"load-bootstrap-{os.getpid()}.log"), "ab")
    p = subprocess.Popen([BOOTSTRAP], env=env, stdout=log, stderr=log)
    started = time.perf_counter()
    while api.first_poll is None:
        if p.poll() is not None or time.perf_counter() - started > 60:
            sys.exit(f"bootstrap did not ask for an event (exit status {p.poll()})")
        time.sleep(0.001)
    first_cpu, first_wall = deliver(api, p.pid, f"{label}first", payloads)
    after_first = rows(outputs)
    arns = [f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{i}" for i in instances] + groups
    sample = random.Random(7).sample(arns, min(40, len(arns)))
    now = world("tags-now", "us-east-1", *sample)
    missing = [a for a in sample if now[a].get("ManagedBy") != "tagwarden"
               or now[a].get("CreatedBy") != f"arn:aws:iam::{ACCOUNT}:user/alice"]
    replay_cpu, replay_wall = deliver(api, p.pid, f"{label}replay", payloads)
    after_replay = rows(outputs)
    p.kill()
    p.wait()
    if missing or after_replay != after_first:
        sys.exit(f"untagged: {missing}; rows {after_first} → {after_replay}")
    return first_cpu, first_wall, replay_cpu, replay_wall, after_first, len(sample)


def main():
    sizes = [N // ROUNDS + (1 if r < N % ROUNDS else 0) for r in range(ROUNDS)]
    totals = [0.0, 0.0, 0.0, 0.0]
    rows_first, sampled = [0, 0, 0], 0
    for r, n in enumerate(sizes):
        if ROUNDS > 1:
            reset_moto()
        # Part of each Runtime API request id: no spaces, no slashes.
        label = f"round{r + 1}of{ROUNDS}-" if ROUNDS > 1 else ""
        *figures, after_first, sample = one_round(n, label)
        totals = [t + f for t, f in zip(totals, figures)]
        rows_first = [a + b for a, b in zip(rows_first, after_first)]
        sampled += sample
    first_cpu, first_wall, replay_cpu, replay_wall = totals
    rounds = f" in {ROUNDS} rounds against a reset moto" if ROUNDS > 1 else ""
    print(f"{N:,} events in {-(-N // 10)} SQS batches of 10{rounds}; rows after the first round "
          f"(TagsMetadata, TagHistory, UserActions): {rows_first}, unchanged by the replay; "
          f"a sample of {sampled} resources carries its tags.\n")
    print("| round | wall | function CPU | CPU per event | at 128 MB: s per event | GB-s per million events |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, cpu, wall in [("first", first_cpu, first_wall), ("replay", replay_cpu, replay_wall)]:
        per = cpu / N
        at128 = per / SHARE_128
        print(f"| {name} | {wall:.1f} s | {cpu:.2f} s | **{per * 1000:.2f} ms** | {at128 * 1000:.0f} ms | "
              f"{at128 * 0.125 * 1e6:,.0f} |")


if __name__ == "__main__":
    main()
