"""mitmproxy addon: AWS-shaped faults between the SDK and moto.

A share of requests (`throttle_permille`) gets the throttling answer its
protocol uses in AWS; another share (`reset_permille`) has its connection cut
before any answer. Every fault is printed as `FAULT <kind> <service>`.
Run: mitmdump --mode reverse:http://127.0.0.1:MOTO -s faults.py
     --set throttle_permille=200 --set reset_permille=50
"""
import random
from mitmproxy import ctx, http


def service_of(flow):
    auth = flow.request.headers.get("Authorization", "")
    # Credential=AKID/20261120/us-east-1/ec2/aws4_request
    try:
        return auth.split("Credential=")[1].split(",")[0].split("/")[3]
    except IndexError:
        return "unknown"


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


class Faults:
    def load(self, loader):
        loader.add_option("throttle_permille", int, 0, "requests throttled, per thousand")
        loader.add_option("reset_permille", int, 0, "connections cut, per thousand")
        loader.add_option("fault_seed", int, 7, "random seed")
        self.rng = random.Random(7)

    def configure(self, updated):
        if "fault_seed" in updated:
            self.rng = random.Random(ctx.options.fault_seed)

    def request(self, flow):
        if flow.request.path.startswith("/moto-api"):
            return
        service = service_of(flow)
        r = self.rng.random() * 1000
        if r < ctx.options.reset_permille:
            print(f"FAULT reset {service}", flush=True)
            flow.kill()
        elif r < ctx.options.reset_permille + ctx.options.throttle_permille:
            print(f"FAULT throttle {service}", flush=True)
            flow.response = throttle(flow, service)


addons = [Faults()]
