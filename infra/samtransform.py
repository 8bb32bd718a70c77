#!/usr/bin/env python3
"""Transform template.yaml into plain CloudFormation JSON offline, with the
SAM translator (aws-sam-translator, installed with cfn-lint). No AWS call is
made: managed policies named in Policies are resolved to their ARNs by name.

    python3 infra/samtransform.py [template.yaml] > transformed.json
"""
import json
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class OfflinePolicies:
    """Stands in for the ManagedPolicyLoader that would list IAM's managed
    policies: an AWS managed policy's ARN follows from its name."""

    def load(self):
        return _AnyName()


class _AnyName(dict):
    def __contains__(self, name):
        return isinstance(name, str) and not name.startswith("arn:")

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __getitem__(self, name):
        return "arn:aws:iam::aws:policy/" + name


def package_locally(template, root):
    """What `sam package` would do, without uploading: code becomes an S3
    location, a state machine's definition file is inlined (so the
    transformed template holds the workflow it deploys)."""
    for name, res in template.get("Resources", {}).items():
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str) \
                and not props["CodeUri"].startswith("s3://"):
            props["CodeUri"] = "s3://offline-transform/%s.zip" % name
        if res.get("Type") == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str) \
                and not props["DefinitionUri"].startswith("s3://"):
            with open(os.path.join(root, props.pop("DefinitionUri")), encoding="utf-8") as f:
                props["Definition"] = json.load(f)


def main():
    # The translator asks boto for a region; none is contacted.
    os.environ.setdefault("AWS_DEFAULT_REGION", "ap-southeast-3")
    path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
    with open(path, encoding="utf-8") as f:
        template = yaml_parse(f.read())
    package_locally(template, os.path.dirname(os.path.abspath(path)))
    params = {"AWS::Region": "ap-southeast-3", "AWS::AccountId": "000000000000", "AWS::Partition": "aws",
              "AWS::StackName": "tangkal", "AWS::URLSuffix": "amazonaws.com"}
    out = transform(template, params, OfflinePolicies())
    json.dump(out, sys.stdout, indent=1, sort_keys=True, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
