// Package data holds files bundled into the binaries.
package data

import _ "embed"

// Platforms is the bundled platform configuration (platforms.json), read by
// package platform when no configuration file is given.
//
//go:embed platforms.json
var Platforms []byte
