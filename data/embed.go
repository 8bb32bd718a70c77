// Package data holds the analyst-editable files bundled into tangkal: the
// risk rules and lexicons (rules/) and the licensed-recruiter registry copy
// (registry.csv). Analysts edit these files; the binary embeds them.
package data

import "embed"

// RegistryCSV is the bundled copy of the P3MI licence registry.
//
//go:embed registry.csv
var RegistryCSV []byte

// Rules holds rules/indicators.yaml, rules/lexicons.yaml and rules/scoring.yaml.
//
//go:embed rules/*.yaml
var Rules embed.FS
