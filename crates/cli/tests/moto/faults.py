"""mitmproxy addon: AWS-shaped faults between the SDK and moto.

A share of requests (`throttle_permille`) gets the throttling answer its
protocol uses in AWS; another share (`reset_permille`) has its connection cut
before any answer. A share of DynamoDB batch calls (`unprocessed_permille`)
is cut in half: moto gets the first half, and the answer hands the rest back
as `UnprocessedItems` / `UnprocessedKeys`, as DynamoDB does when throttled.
With `unseen=1`, EC2's CreateTags answers `Invalid….NotFound` naming the
ids of one kind it has not been asked about before, in EC2's words, as it
does for resources created moments ago (eventual consistency); every id of
a call counts as asked about, so no id is refused twice. With `creating=ARN=N`, the Tagging API's TagResources answers the first N
calls naming ARN as it does for a resource still being created: that entry
in `FailedResourcesMap` (the rest of the call goes to moto).
Every fault is printed as `FAULT <kind> <service>`, a throttle and a reset
with the SDK's attempt number (`attempt=N`, from its `amz-sdk-request` header); with
`count=1`, every request as `REQUEST <service> attempt=N at=<seconds>`
(and, with `unseen=1`, each CreateTags's ids as `CALL CreateTags <ids>`).
Run: mitmdump --mode reverse:http://127.0.0.1:MOTO -s faults.py
     --set throttle_permille=200 --set reset_permille=50
"""
import json
import random
import time
from mitmproxy import ctx, http


def service_of(flow):
    auth = flow.request.headers.get("Authorization", "")
    # Credential=AKID/20261120/us-east-1/ec2/aws4_request
    try:
        return auth.split("Credential=")[1].split(",")[0].split("/")[3]
    except IndexError:
        return "unknown"


def attempt_of(flow):
    """The SDK's attempt number (`amz-sdk-request: attempt=2; max=6`), 1 if unsaid."""
    for part in flow.request.headers.get("amz-sdk-request", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == "attempt" and value.isdigit():
            return int(value)
    return 1


def throttle(flow, service):
    if "X-Amz-Target" in flow.request.headers:
        return http.Response.make(
            400,
            b'{"__type":"ThrottlingException","message":"Rate exceeded"}',
            {"Content-Type": "application/x-amz-json-1.1"},
        )
    if service == "ec2":
        return http.Response.make(
            503,
            b"<?xml version=\"1.0\"?><Response><Errors><Error><Code>RequestLimitExceeded</Code>"
            b"<Message>Request limit exceeded.</Message></Error></Errors>"
            b"<RequestID>fault</RequestID></Response>",
            {"Content-Type": "text/xml"},
        )
    if service == "s3":
        return http.Response.make(
            503,
            b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>",
            {"Content-Type": "application/xml"},
        )
    return http.Response.make(
        400,
        b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
        b"<Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>",
        {"Content-Type": "text/xml"},
    )


def split_batch(flow):
    """Keeps the first half of a DynamoDB batch; returns the rest, or None."""
    target = flow.request.headers.get("X-Amz-Target", "")
    if not target.endswith((".BatchWriteItem", ".BatchGetItem")):
        return None
    body = json.loads(flow.request.get_text())
    kept, rest = {}, {}
    for table, ask in body["RequestItems"].items():
        items = ask["Keys"] if isinstance(ask, dict) else ask
        half = len(items) // 2
        if half == 0:
            kept[table] = ask
            continue
        if isinstance(ask, dict):
            kept[table] = dict(ask, Keys=items[:half])
            rest[table] = dict(ask, Keys=items[half:])
        else:
            kept[table] = items[:half]
            rest[table] = items[half:]
    if not rest:
        return None
    body["RequestItems"] = kept
    flow.request.set_text(json.dumps(body))
    return "UnprocessedKeys" if target.endswith(".BatchGetItem") else "UnprocessedItems", rest


# EC2's not-found codes and nouns by id prefix, as its error messages name them.
EC2_IDS = {"i": ("InvalidInstanceID", "instance ID"), "vol": ("InvalidVolume", "volume"),
           "sg": ("InvalidGroup", "security group"), "vpc": ("InvalidVpcID", "vpc ID"),
           "subnet": ("InvalidSubnetID", "subnet ID"), "eni": ("InvalidNetworkInterfaceID", "network interface ID"),
           "snap": ("InvalidSnapshot", "snapshot"), "ami": ("InvalidAMIID", "image id")}


def not_yet_visible(flow, seen, count):
    """EC2's answer to a CreateTags naming ids never asked about before, or
    None. EC2 refuses the whole call and names the missing ids of the kind
    it checked first."""
    if flow.request.method != "POST" or "Action=CreateTags" not in flow.request.get_text():
        return None
    form = flow.request.urlencoded_form
    ids = [v for k, v in form.items(multi=True) if k.startswith("ResourceId.")]
    if count:
        print(f"CALL CreateTags {' '.join(ids)}", flush=True)
    new = [i for i in ids if i not in seen]
    seen.update(ids)
    if not new:
        return None
    prefix = new[0].split("-")[0]
    new = [i for i in new if i.split("-")[0] == prefix]
    code, noun = EC2_IDS.get(prefix, ("InvalidID", "ID"))
    if len(new) == 1:
        message = f"The {noun} '{new[0]}' does not exist"
    else:
        message = f"The {noun}s '{', '.join(new)}' do not exist"
    print(f"FAULT unseen {len(new)} {' '.join(new)}", flush=True)
    return http.Response.make(
        400,
        (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}.NotFound</Code>'
         f"<Message>{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>").encode(),
        {"Content-Type": "text/xml"},
    )


class Faults:
    def load(self, loader):
        loader.add_option("throttle_permille", int, 0, "requests throttled, per thousand")
        loader.add_option(
            "unprocessed_permille", int, 0, "DynamoDB batches half left unprocessed, per thousand"
        )
        loader.add_option("reset_permille", int, 0, "connections cut, per thousand")
        loader.add_option("fault_seed", int, 7, "random seed")
        loader.add_option("creating", str, "", "ARN=N: TagResources says ARN is being created, N times")
        loader.add_option("count", int, 0, "1: print every request")
        loader.add_option("unseen", int, 0, "1: EC2 CreateTags refuses ids it sees for the first time")
        self.rng = random.Random(7)
        self.seen = set()
        self.creating_left = None

    def configure(self, updated):
        if "fault_seed" in updated:
            self.rng = random.Random(ctx.options.fault_seed)

    def being_created(self, flow):
        """Takes ARN out of a TagResources call naming it, N times, and
        keeps the failure the answer gets."""
        arn, _, n = ctx.options.creating.rpartition("=")
        if not arn or not flow.request.headers.get("X-Amz-Target", "").endswith(".TagResources"):
            return
        if self.creating_left is None:
            self.creating_left = int(n)
        body = json.loads(flow.request.get_text())
        arns = body.get("ResourceARNList", [])
        if arn not in arns or self.creating_left <= 0:
            return
        self.creating_left -= 1
        print(f"FAULT creating {arn}", flush=True)
        failed = {arn: {"StatusCode": 400, "ErrorCode": "InvalidParameterException",
                        "ErrorMessage": f"DB instance {arn.rsplit(':', 1)[-1]} is not in available state."}}
        body["ResourceARNList"] = [a for a in arns if a != arn]
        if body["ResourceARNList"]:
            flow.request.set_text(json.dumps(body))
            flow.metadata["failed"] = failed
        else:
            flow.response = http.Response.make(
                200, json.dumps({"FailedResourcesMap": failed}).encode(),
                {"Content-Type": "application/x-amz-json-1.1"})

    def request(self, flow):
        if flow.request.path.startswith("/moto-api"):
            return
        if ctx.options.count:
            print(f"REQUEST {service_of(flow)} attempt={attempt_of(flow)} at={time.monotonic():.2f}", flush=True)
        self.being_created(flow)
        if flow.response:
            return
        if ctx.options.unseen and service_of(flow) == "ec2":
            flow.response = not_yet_visible(flow, self.seen, ctx.options.count)
            if flow.response:
                return
        service = service_of(flow)
        r = self.rng.random() * 1000
        if r < ctx.options.reset_permille:
            print(f"FAULT reset {service} attempt={attempt_of(flow)}", flush=True)
            flow.kill()
        elif r < ctx.options.reset_permille + ctx.options.throttle_permille:
            print(f"FAULT throttle {service} attempt={attempt_of(flow)}", flush=True)
            flow.response = throttle(flow, service)
        elif self.rng.random() * 1000 < ctx.options.unprocessed_permille:
            cut = split_batch(flow)
            if cut:
                print(f"FAULT unprocessed {service}", flush=True)
                flow.metadata["unprocessed"] = cut

    def response(self, flow):
        failed = flow.metadata.get("failed")
        if failed and flow.response.status_code == 200:
            body = json.loads(flow.response.get_text() or "{}")
            body.setdefault("FailedResourcesMap", {}).update(failed)
            flow.response.set_text(json.dumps(body))
        cut = flow.metadata.get("unprocessed")
        if not cut or flow.response.status_code != 200:
            return
        field, rest = cut
        body = json.loads(flow.response.get_text())
        body[field] = rest
        flow.response.set_text(json.dumps(body))


addons = [Faults()]
