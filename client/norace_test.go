//go:build !race

package client

// raceDetector is set when the tests run with -race (see race_test.go).
const raceDetector = false
