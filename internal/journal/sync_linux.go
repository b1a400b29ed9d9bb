package journal

import (
	"os"
	"syscall"
)

// syncData makes what was written to f durable: its data, and the size
// that reaches it (fdatasync(2); the file's times are left to the kernel).
func syncData(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
