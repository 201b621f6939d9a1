package main

import (
	"io"
	"os"
	"time"

	"github.com/vbauerster/mpb/v8"
	"golang.org/x/term"
)

// progressOutput is the progress display of a long command: mpb bars when w is a terminal (and not -q),
// plain lines otherwise, so logs stay readable.
type progressOutput struct {
	w       io.Writer
	quiet   bool
	verbose bool
	p       *mpb.Progress // nil when not on a terminal
}

func newProgressOutput(g *globalOptions, w io.Writer) progressOutput {
	o := progressOutput{w: w, quiet: g.quiet, verbose: g.verbose}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !g.quiet {
		o.p = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
	}
	return o
}

// println writes one line above the bars, or plainly when there are none.
func (o *progressOutput) println(s string) {
	s += "\n"
	if o.p != nil {
		o.p.Write([]byte(s))
		return
	}
	io.WriteString(o.w, s)
}
