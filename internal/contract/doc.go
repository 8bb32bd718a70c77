// Package contract holds the tests that keep template.yaml, the function
// folders, the wiring, the state machine and the sample events in step, so
// what SAM deploys and what the local stack runs cannot drift apart. It has
// no code of its own.
package contract
