"""CloudTrail digests for `tagwarden verify`'s tests, and the AWS CLI's own
validator as a second opinion. Runs in its own venv (scripts/lib/moto.sh
ensure_awscli_venv): the `awscli` package pins its own botocore, and its
validator uses the `rsa` package, which signs here too.

  digests.py make BUCKET OUT_DIR [ACCOUNT DAY RECORDS_JSON]
                                      three hourly logs and their chained,
                                      signed digests; OUT_DIR/keys.json is
                                      ListPublicKeys' answer for the test key.
                                      DAY is YYYY/MM/DD; RECORDS_JSON, a file
                                      holding each hour's records (3 lists)
  digests.py tamper BUCKET WHAT       alter-log | delete-log | forge-digest |
                                      delete-digest
  digests.py awscli BUCKET KEYS_JSON  the AWS CLI's verdicts, as JSON:
                                      [{"url", "valid"}] sorted by url

moto has no ListPublicKeys, so the AWS CLI's traverser is driven directly
(as its own tests do) with the test key as its public key provider.
"""
import base64
import gzip
import hashlib
import json
import os
import sys
from datetime import datetime, timezone

import botocore.session
import rsa

ACCOUNT = "123456789012"
REGION = "us-east-1"
TRAIL = "tw"
FINGERPRINT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
DAY = "2026/11/20"


def s3():
    return botocore.session.get_session().create_client(
        "s3", region_name=REGION, endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing", aws_secret_access_key="testing")


def log_key(hour, account=ACCOUNT, day=DAY):
    return (f"AWSLogs/{account}/CloudTrail/{REGION}/{day}/"
            f"{account}_CloudTrail_{REGION}_{day.replace('/', '')}T0{hour}05Z_log{hour}.json.gz")


def digest_key(hour, account=ACCOUNT, day=DAY):
    return (f"AWSLogs/{account}/CloudTrail-Digest/{REGION}/{day}/"
            f"{account}_CloudTrail-Digest_{REGION}_{TRAIL}_{REGION}_{day.replace('/', '')}T0{hour}1500Z.json.gz")


def make(bucket, out, account=ACCOUNT, day=DAY, records_json=None):
    c = s3()
    try:
        c.create_bucket(Bucket=bucket)
    except c.exceptions.BucketAlreadyOwnedByYou:
        pass
    records = json.load(open(records_json)) if records_json else [
        [{"eventVersion": "1.09", "eventID": f"e{hour}",
          "eventTime": f"{day.replace('/', '-')}T0{hour}:01:00Z"}] for hour in (1, 2, 3)]
    date = day.replace("/", "-")
    log_key_of = lambda h: log_key(h, account, day)  # noqa: E731
    digest_key_of = lambda h: digest_key(h, account, day)  # noqa: E731
    public, private = rsa.newkeys(2048)
    previous = None
    for hour in (1, 2, 3):
        log = json.dumps({"Records": records[hour - 1]}).encode()
        c.put_object(Bucket=bucket, Key=log_key_of(hour), Body=gzip.compress(log))
        digest = {
            "awsAccountId": account,
            "digestStartTime": f"{date}T0{hour - 1}:15:00Z",
            "digestEndTime": f"{date}T0{hour}:15:00Z",
            "digestS3Bucket": bucket,
            "digestS3Object": digest_key_of(hour),
            "digestPublicKeyFingerprint": FINGERPRINT,
            "digestSignatureAlgorithm": "SHA256withRSA",
            "newestEventTime": f"{date}T0{hour}:01:00Z",
            "oldestEventTime": f"{date}T0{hour}:01:00Z",
            "previousDigestS3Bucket": bucket if previous else None,
            "previousDigestS3Object": digest_key_of(hour - 1) if previous else None,
            "previousDigestHashValue": previous[0] if previous else None,
            "previousDigestHashAlgorithm": "SHA-256" if previous else None,
            "previousDigestSignature": previous[1] if previous else None,
            "logFiles": [{"s3Bucket": bucket, "s3Object": log_key_of(hour),
                          "hashValue": hashlib.sha256(log).hexdigest(), "hashAlgorithm": "SHA-256",
                          "newestEventTime": f"{date}T0{hour}:01:00Z",
                          "oldestEventTime": f"{date}T0{hour}:01:00Z"}],
        }
        inflated = json.dumps(digest).encode()
        to_sign = "{}\n{}/{}\n{}\n{}".format(
            digest["digestEndTime"], bucket, digest_key_of(hour),
            hashlib.sha256(inflated).hexdigest(),
            digest["previousDigestSignature"] or "null").encode()
        signature = rsa.sign(to_sign, private, "SHA-256").hex()
        c.put_object(Bucket=bucket, Key=digest_key_of(hour), Body=gzip.compress(inflated),
                     Metadata={"signature": signature, "signature-algorithm": "SHA256withRSA"})
        previous = (hashlib.sha256(inflated).hexdigest(), signature)
    keys = {"PublicKeyList": [{
        "Value": base64.b64encode(public.save_pkcs1(format="DER")).decode(),
        "ValidityStartTime": "2026-11-01T00:00:00Z", "ValidityEndTime": "2026-12-01T00:00:00Z",
        "Fingerprint": FINGERPRINT}]}
    with open(os.path.join(out, "keys.json"), "w") as f:
        json.dump(keys, f)
    return {"logs": [log_key_of(h) for h in (1, 2, 3)],
            "digests": [digest_key_of(h) for h in (1, 2, 3)]}


def tamper(bucket, what, account=ACCOUNT, day=DAY):
    c = s3()
    if what == "alter-log":
        body = json.dumps({"Records": [{"eventVersion": "1.09", "eventID": "planted"}]}).encode()
        c.put_object(Bucket=bucket, Key=log_key(2, account, day), Body=gzip.compress(body))
    elif what == "delete-log":
        c.delete_object(Bucket=bucket, Key=log_key(1))
    elif what == "forge-digest":
        got = c.get_object(Bucket=bucket, Key=digest_key(3))
        digest = json.loads(gzip.decompress(got["Body"].read()))
        digest["logFiles"][0]["hashValue"] = "0" * 64
        c.put_object(Bucket=bucket, Key=digest_key(3), Body=gzip.compress(json.dumps(digest).encode()),
                     Metadata=got["Metadata"])
    elif what == "delete-digest":
        c.delete_object(Bucket=bucket, Key=digest_key(2))
    else:
        sys.exit(f"unknown tampering {what}")
    return what


def awscli(bucket, keys_json):
    from awscli.customizations.cloudtrail.validation import DigestProvider, DigestTraverser

    client = s3()
    keys = json.load(open(keys_json))["PublicKeyList"]

    class Clients:
        def get_client(self, bucket_name):
            return client

    class Keys:
        def get_public_keys(self, start, end):
            return {k["Fingerprint"]: k for k in keys}

    verdicts = {}

    def invalid(bucket, last_key, **kwargs):
        verdicts[f"s3://{bucket}/{last_key}"] = False

    provider = DigestProvider(s3_client_provider=Clients(), account_id=ACCOUNT,
                              trail_name=TRAIL, trail_home_region=REGION)
    traverser = DigestTraverser(digest_provider=provider, starting_bucket=bucket,
                                starting_prefix=None, public_key_provider=Keys(),
                                on_invalid=invalid, on_missing=invalid)
    start = datetime(2026, 11, 19, tzinfo=timezone.utc)
    end = datetime(2026, 11, 21, tzinfo=timezone.utc)
    for digest in traverser.traverse_digests(start, end):
        verdicts[f"s3://{digest['digestS3Bucket']}/{digest['digestS3Object']}"] = True
        for log in digest["logFiles"]:
            url = f"s3://{log['s3Bucket']}/{log['s3Object']}"
            try:
                body = client.get_object(Bucket=log["s3Bucket"], Key=log["s3Object"])["Body"].read()
                verdicts[url] = hashlib.sha256(gzip.decompress(body)).hexdigest() == log["hashValue"]
            except client.exceptions.NoSuchKey:
                verdicts[url] = False
    return [{"url": u, "valid": v} for u, v in sorted(verdicts.items())]


def main():
    command, args = sys.argv[1], sys.argv[2:]
    json.dump({"make": make, "tamper": tamper, "awscli": awscli}[command](*args), sys.stdout)


if __name__ == "__main__":
    main()
