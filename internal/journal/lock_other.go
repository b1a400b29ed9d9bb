//go:build !unix

package journal

import "os"

// Lock takes no lock where flock(2) is missing: two runs on one journal
// are not stopped there.
func Lock(*os.File) error { return nil }

// FileID is not known where stat has no device and inode: a run's claims
// are then its own only while it runs.
func FileID(*os.File) (string, bool) { return "", false }
