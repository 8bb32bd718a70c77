#!/usr/bin/env python3
"""Runs the conformance cases on moto's Step Functions interpreter.

moto (derived from LocalStack's interpreter) runs in this process with its
ASL interpreter switched on; nothing goes to the network. For every case
directory under the cases folder it creates the state machine (named after
the case), starts one execution (also named after the case) with the case's
input, waits for it to end and prints one JSON line:

    {"name", "status", "output", "error", "cause", "states"}

where states lists the names of the states entered, in history order.
Cases that need a Lambda function (they carry a functions.json) are
printed with "skipped" instead: moto's Lambda needs Docker.

Usage: moto_runner.py CASES_DIR [CASE_NAME ...]
"""

import json
import logging
import os
import sys
import time

TIMEOUT_SECONDS = 120
ROLE_ARN = "arn:aws:iam::123456789012:role/conformance"


def load_cases(cases_dir, names):
    wanted = set(names)
    out = []
    for name in sorted(os.listdir(cases_dir)):
        d = os.path.join(cases_dir, name)
        if not os.path.isfile(os.path.join(d, "definition.asl.json")):
            continue
        if wanted and name not in wanted:
            continue
        with open(os.path.join(d, "definition.asl.json"), encoding="utf-8") as f:
            definition = f.read()
        with open(os.path.join(d, "input.json"), encoding="utf-8") as f:
            payload = f.read()
        needs_lambda = os.path.exists(os.path.join(d, "functions.json"))
        out.append((name, definition, payload, needs_lambda))
    missing = wanted - {c[0] for c in out}
    if missing:
        raise SystemExit(f"moto_runner: no such case: {', '.join(sorted(missing))}")
    return out


def entered_states(client, execution_arn):
    states, token = [], None
    while True:
        kw = {"executionArn": execution_arn, "maxResults": 1000}
        if token:
            kw["nextToken"] = token
        page = client.get_execution_history(**kw)
        for event in page["events"]:
            if event["type"].endswith("StateEntered"):
                states.append(event["stateEnteredEventDetails"]["name"])
        token = page.get("nextToken")
        if not token:
            return states


def main(argv):
    if len(argv) < 2:
        raise SystemExit(__doc__)
    cases = load_cases(argv[1], argv[2:])

    # moto's interpreter logs every failed execution with a stack trace.
    logging.disable(logging.CRITICAL)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    import boto3
    from moto import mock_aws

    config = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    for name, definition, payload, needs_lambda in cases:
        if needs_lambda:
            emit({"name": name, "skipped": "needs a Lambda function (moto runs Lambda only in Docker)"})
            continue
        # A fresh backend per case: moto deep-copies the state machine when an
        # execution starts, which fails once an earlier execution's thread
        # left a lock in the backend ("cannot pickle '_thread.RLock' object").
        with mock_aws(config=config):
            client = boto3.client("stepfunctions", region_name="us-east-1")
            emit(run_case(client, name, definition, payload))


def emit(result):
    print(json.dumps(result), flush=True)


def run_case(client, name, definition, payload):
    try:
        arn = client.create_state_machine(name=name, definition=definition, roleArn=ROLE_ARN)["stateMachineArn"]
        execution_arn = client.start_execution(stateMachineArn=arn, name=name, input=payload)["executionArn"]
    except Exception as e:  # a definition moto rejects is a result too
        return {"name": name, "status": "REJECTED", "output": None, "error": type(e).__name__, "cause": str(e), "states": []}
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while True:
        d = client.describe_execution(executionArn=execution_arn)
        if d["status"] != "RUNNING":
            break
        if time.monotonic() > deadline:
            return {"name": name, "status": "RUNNING", "output": None, "error": "moto_runner.Timeout",
                    "cause": f"still running after {TIMEOUT_SECONDS}s", "states": entered_states(client, execution_arn)}
        time.sleep(0.02)
    output = d.get("output")
    if output is not None:
        try:
            output = json.loads(output)
        except ValueError:
            # moto bug: a string output is written without JSON quotes
            # ("R1" comes back as R1). Read it as the string it was.
            pass
    return {
        "name": name,
        "status": d["status"],
        "output": output,
        "error": d.get("error"),
        "cause": d.get("cause"),
        "states": entered_states(client, execution_arn),
    }


if __name__ == "__main__":
    main(sys.argv)
