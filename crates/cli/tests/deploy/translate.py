"""Translates deploy/template.yaml (SAM) to plain CloudFormation with
aws-sam-translator, as CloudFormation's transform would, and prints it as
JSON. The function's local CodeUri becomes a placeholder S3 location, as
`sam package` would make it.

With --deploy SUFFIX, creates the translated template as a stack in the moto
server at AWS_ENDPOINT_URL instead (the placeholder code uploaded first),
and prints the stack's status and outputs, and which of the resources the
outputs name the services themselves can find.

Usage: translate.py TEMPLATE [--deploy SUFFIX]
"""
import json
import os
import sys

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.public.translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


def main():
    out = translate(sys.argv[1])
    if sys.argv[2:3] == ["--deploy"]:
        out = deploy(out, sys.argv[3])
    json.dump(out, sys.stdout, indent=1, default=str)


def translate(path):
    """The plain CloudFormation of the SAM template at PATH (also used by
    iam_check.py); exits with the translator's complaints if it has any."""
    # The transform fills AWS::Region; any region does for the test.
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with open(path) as f:
        template = yaml_parse(f.read())
    # A plain template (member-role.yaml, regional.yaml) is only parsed.
    if "Transform" not in template:
        return template
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://tagwarden-artifacts/bootstrap.zip"
    # No managed policies are named, so the loader is never asked; it still
    # needs a client object.
    iam = boto3.client("iam", region_name="us-east-1", aws_access_key_id="x",
                       aws_secret_access_key="x", endpoint_url="http://127.0.0.1:9")
    try:
        return transform(template, {}, ManagedPolicyLoader(iam))
    except InvalidDocumentException as e:
        sys.exit("; ".join(str(c) for c in e.causes))


def language_extensions(template, params):
    """What AWS::LanguageExtensions does for this template, which neither
    aws-sam-translator nor moto does: a DeletionPolicy or
    UpdateReplacePolicy that is an Fn::If, decided by its condition."""
    def value(v):
        if isinstance(v, dict) and "Ref" in v:
            return params.get(v["Ref"], template["Parameters"].get(v["Ref"], {}).get("Default"))
        return v

    def holds(c):
        if isinstance(c, dict) and "Condition" in c:
            return holds(template["Conditions"][c["Condition"]])
        (fn, args), = c.items()
        return {"Fn::Equals": lambda: value(args[0]) == value(args[1]),
                "Fn::Not": lambda: not holds(args[0]),
                "Fn::And": lambda: all(holds(a) for a in args),
                "Fn::Or": lambda: any(holds(a) for a in args)}[fn]()

    for resource in template["Resources"].values():
        for key in ["DeletionPolicy", "UpdateReplacePolicy"]:
            choice = resource.get(key)
            if isinstance(choice, dict):
                name, yes, no = choice["Fn::If"]
                resource[key] = yes if holds({"Condition": name}) else no
    return template


def deploy(template, suffix):
    import io
    import zipfile
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    session = boto3.Session(region_name="us-east-1")
    c = lambda name: session.client(name, endpoint_url=endpoint)
    c("s3").create_bucket(Bucket="tagwarden-artifacts")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    c("s3").put_object(Bucket="tagwarden-artifacts", Key="bootstrap.zip", Body=buf.getvalue())
    cf = c("cloudformation")
    name = f"tagwarden-{suffix}"
    template = language_extensions(template, {"EnvironmentSuffix": suffix})
    cf.create_stack(StackName=name, TemplateBody=json.dumps(template),
                    Parameters=[{"ParameterKey": "EnvironmentSuffix", "ParameterValue": suffix}],
                    Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    stack = cf.describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    found = {}

    def probe(key, call):
        try:
            call()
            found[key] = True
        except Exception as e:  # noqa: BLE001 - any failure means "not found"
            found[key] = str(e)

    probe("TrailBucketName", lambda: c("s3").head_bucket(Bucket=outputs["TrailBucketName"]))
    probe("ScanLogBucketName", lambda: c("s3").head_bucket(Bucket=outputs["ScanLogBucketName"]))
    for t in ["TagsMetadataTableName", "TagHistoryTableName", "UserActionsTableName"]:
        probe(t, lambda t=t: c("dynamodb").describe_table(TableName=outputs[t]))
    probe("AlertTopicArn", lambda: c("sns").get_topic_attributes(TopicArn=outputs["AlertTopicArn"]))
    probe("DeadLetterQueueUrl", lambda: c("sqs").get_queue_attributes(QueueUrl=outputs["DeadLetterQueueUrl"]))
    probe("FunctionArn", lambda: c("lambda").get_function(FunctionName=outputs["FunctionArn"]))
    probe("EventQueueUrl", lambda: c("sqs").get_queue_attributes(QueueUrl=outputs["EventQueueUrl"]))
    probe("EventBusArn", lambda: c("events").describe_event_bus(Name=outputs["EventBusArn"]))
    probe("BackfillStateMachineArn",
          lambda: c("stepfunctions").describe_state_machine(stateMachineArn=outputs["BackfillStateMachineArn"]))
    for rule in [f"tagwarden-api-calls-{suffix}", f"tagwarden-ec2-api-calls-{suffix}", f"tagwarden-state-changes-{suffix}", f"tagwarden-scan-{suffix}"]:
        probe(rule, lambda rule=rule: c("events").describe_rule(Name=rule))
    return {"status": stack["StackStatus"], "outputs": outputs, "found": found}


if __name__ == "__main__":
    main()
