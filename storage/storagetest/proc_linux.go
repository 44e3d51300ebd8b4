package storagetest

import "syscall"

// serverProcAttr kills redis-server when the thread that started it exits,
// which startRedis arranges to happen only when the test binary exits.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
