package main

import (
	"errors"
	"fmt"
	"strings"
)

// Exit statuses of interfaces.md.
const (
	exitOK      = 0 // success
	exitPartial = 1 // some inputs failed, the rest was done
	exitUsage   = 2 // the command line was wrong
	exitNothing = 3 // nothing could be done (missing model, locked database, ...)
)

// exitError carries an exit status up to run. A nil err means the message was already printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf reports a command-line mistake (exit status 2).
func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// fatalf reports that nothing could be done (exit status 3).
func fatalf(format string, args ...any) error {
	return &exitError{code: exitNothing, err: fmt.Errorf(format, args...)}
}

// fatal wraps err so that it exits with status 3.
func fatal(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: exitNothing, err: err}
}

// notBuilt is the answer of commands that are declared but not implemented yet.
func notBuilt(name string) error {
	return &exitError{code: exitNothing, err: fmt.Errorf("%s is not built yet in this version of colsmol; see the README for what works today", name)}
}

// isUsageError tells cobra's flag and argument errors apart from failures of the work itself.
func isUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown flag", "unknown shorthand", "unknown command", "accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument", "required flag"} {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}
