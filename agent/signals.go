package agent

import (
	"syscall"
)

// signalByName maps RFC 4254 signal names (without "SIG") to signals.
var signalByName = map[string]syscall.Signal{
	"ABRT": syscall.SIGABRT, "ALRM": syscall.SIGALRM, "FPE": syscall.SIGFPE,
	"HUP": syscall.SIGHUP, "ILL": syscall.SIGILL, "INT": syscall.SIGINT,
	"KILL": syscall.SIGKILL, "PIPE": syscall.SIGPIPE, "QUIT": syscall.SIGQUIT,
	"SEGV": syscall.SIGSEGV, "TERM": syscall.SIGTERM, "USR1": syscall.SIGUSR1,
	"USR2": syscall.SIGUSR2,
}

// signalName names sig for exit-signal; signals outside RFC 4254 get OpenSSH's
// "NAME@openssh.com" form.
func signalName(sig syscall.Signal) string {
	for name, s := range signalByName {
		if s == sig {
			return name
		}
	}
	extra := map[syscall.Signal]string{
		syscall.SIGBUS: "BUS", syscall.SIGCHLD: "CHLD", syscall.SIGCONT: "CONT",
		syscall.SIGSTOP: "STOP", syscall.SIGTSTP: "TSTP", syscall.SIGTTIN: "TTIN",
		syscall.SIGTTOU: "TTOU", syscall.SIGSYS: "SYS", syscall.SIGTRAP: "TRAP",
		syscall.SIGXCPU: "XCPU", syscall.SIGXFSZ: "XFSZ", syscall.SIGWINCH: "WINCH",
		syscall.SIGURG: "URG", syscall.SIGIO: "IO", syscall.SIGPROF: "PROF",
		syscall.SIGVTALRM: "VTALRM",
	}
	if n, ok := extra[sig]; ok {
		return n + "@openssh.com"
	}
	return "UNKNOWN@openssh.com"
}
