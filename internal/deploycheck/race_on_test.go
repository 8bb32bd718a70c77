//go:build race

package deploycheck

// raceBuild: the test binary has the race detector.
const raceBuild = true
