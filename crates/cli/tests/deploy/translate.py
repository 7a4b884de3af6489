"""Translates deploy/template.yaml (SAM) to plain CloudFormation with
aws-sam-translator, as CloudFormation's transform would, and prints it as
JSON. The function's local CodeUri becomes a placeholder S3 location, as
`sam package` would make it.

Usage: translate.py TEMPLATE
"""
import json
import sys

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.public.translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


def main():
    with open(sys.argv[1]) as f:
        template = yaml_parse(f.read())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://tagwarden-artifacts/bootstrap.zip"
    # No managed policies are named, so the loader is never asked; it still
    # needs a client object.
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x", endpoint_url="http://127.0.0.1:9")
    try:
        out = transform(template, {}, ManagedPolicyLoader(iam))
    except InvalidDocumentException as e:
        sys.exit("; ".join(str(c) for c in e.causes))
    json.dump(out, sys.stdout, indent=1, default=str)


if __name__ == "__main__":
    main()
