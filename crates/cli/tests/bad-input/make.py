#!/usr/bin/env python3
"""Writes the bad-input corpus next to this script. Run it again only to
change a case; the outputs are committed so the tests need no Python."""
import gzip, json, os

HERE = os.path.dirname(os.path.abspath(__file__))


def bucket(n, **extra):
    r = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE",
                         "arn": "arn:aws:iam::111122223333:user/alice",
                         "accountId": "111122223333", "userName": "alice"},
        "eventTime": "2026-01-15T10:%02d:00Z" % (n % 60),
        "eventSource": "s3.amazonaws.com", "eventName": "CreateBucket",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"bucketName": "bad-input-%d" % n, "Host": "s3.amazonaws.com"},
        "responseElements": None,
        "eventID": "00000000-0000-4000-8000-%012d" % n,
        "readOnly": False, "eventType": "AwsApiCall", "managementEvent": True,
        "recipientAccountId": "111122223333", "eventCategory": "Management",
    }
    r.update(extra)
    return r


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def log(records):
    return json.dumps({"Records": records}).encode()


# A gzip stream cut in half: the records before the cut are still planned.
full = gzip.compress(log([bucket(i) for i in range(400)]), mtime=0)
write("truncated.json.gz", full[: len(full) // 2])

# Garbage between two members of record 1.
good0, bad1, good2 = (json.dumps(bucket(i)) for i in range(3))
bad1 = bad1.replace('"readOnly"', 'oops "readOnly"')
write("invalid-json.json", ('{"Records":[%s,%s,%s]}' % (good0, bad1, good2)).encode())

# Record 1 lacks eventTime; record 2 has a number where a string belongs.
r1 = bucket(1); del r1["eventTime"]
r2 = bucket(2); r2["userIdentity"]["type"] = 7
write("missing-fields.json", log([bucket(0), r1, r2, bucket(3)]))

# Valid JSON, not CloudTrail.
write("not-cloudtrail.json", b'{"hello": "world", "items": [1, 2, 3]}')

# A 10 MB string inside record 1 (compresses to almost nothing).
huge = bucket(1); huge["requestParameters"]["policy"] = "A" * (10 * 1024 * 1024)
write("huge-string.json.gz", gzip.compress(log([bucket(0), huge, bucket(2)]), mtime=0))

# Odd Unicode: a valid record with emoji/RTL/combining marks in the creator,
# a lone surrogate escape, and raw bytes that are not UTF-8.
odd = bucket(0)
odd["userIdentity"]["arn"] = "arn:aws:iam::111122223333:user/Zoë‮😀,x"
lone = json.dumps(bucket(1)).replace('"bad-input-1"', '"bad-\\ud800-1"')
raw = json.dumps(bucket(2)).encode().replace(b"bad-input-2", b"bad-\xff\xfe-2")
write("odd-unicode.json", b'{"Records":[' + json.dumps(odd, ensure_ascii=False).encode() + b"," + lone.encode() + b"," + raw + b"," + json.dumps(bucket(3)).encode() + b"]}")

# Gzip magic bytes followed by garbage.
write("corrupt-gzip.json.gz", b"\x1f\x8b\x08\x00garbage, not deflate at all" * 4)

# Not JSON at all, and an empty file.
write("binary.json", bytes(range(256)))
write("empty.json", b"")

# A catalogued record whose ids have the wrong shape, between good ones.
wrong = bucket(1, eventSource="ec2.amazonaws.com", eventName="RunInstances",
               responseElements={"instancesSet": "i-not-a-list"})
write("wrong-shape.json", log([bucket(0), wrong, bucket(2)]))
