//go:build race

package client

// raceDetector is set when the tests run with -race, which changes what
// escapes to the heap: allocation counts are checked without it.
const raceDetector = true
