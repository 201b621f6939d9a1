// Command colsmol indexes folders of PDFs and images with ColSmolVLM, searches them with late-interaction
// MaxSim and answers questions about the best pages with SmolVLM, all on the local machine.
package main

import (
	"errors"
	"fmt"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run executes the command line and returns the process exit status (see exitError).
func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "colsmol:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "colsmol:", err)
	if isUsageError(err) {
		return exitUsage
	}
	return exitNothing
}
