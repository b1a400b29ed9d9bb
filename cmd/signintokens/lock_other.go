//go:build !unix

package main

import "os"

// lockFile takes no lock where flock(2) is missing: two runs on one journal
// are not stopped there.
func lockFile(*os.File) error { return nil }

// fileID is not known where stat has no device and inode: a run's claims
// are then its own only while it runs.
func fileID(*os.File) (string, bool) { return "", false }
