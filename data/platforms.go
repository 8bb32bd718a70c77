// Package data holds files bundled into the binaries.
package data

import _ "embed"

// Platforms is the bundled platform configuration (platforms.json), read by
// package platform when no configuration file is given.
//
//go:embed platforms.json
var Platforms []byte

// Agencies is the bundled agency directory and approval policy
// (agencies.yaml), read by package agency when no override is given.
//
//go:embed agencies.yaml
var Agencies []byte
