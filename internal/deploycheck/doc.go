// Package deploycheck holds the tests that read template.yaml as AWS
// deploys it: transformed offline by the SAM translator (python3 with
// aws-sam-translator, which cfn-lint installs; infra/samtransform.py).
// They check what a deployment needs to be operable - every AWS call a
// function's code can make is granted to its role, logs are kept for a
// set time, alarms reach someone, evidence is locked - so a review's
// findings cannot come back. It has no code of its own.
package deploycheck
