//go:build !linux

package storagetest

import "syscall"

// serverProcAttr has no parent-death signal to ask for outside Linux, so
// there the private redis-server outlives the test binary; set
// TEST_REDIS_URL to avoid that.
func serverProcAttr() *syscall.SysProcAttr { return nil }
