package hub

import (
	"io"
	"os"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// bar is one file's progress bar, or nothing when progress is not shown.
type bar struct {
	p *mpb.Progress
	b *mpb.Bar
}

// isTerminal reports whether w is a terminal, where bars can redraw in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newBar starts a bar for name with total bytes (unknown: -1), already at start bytes. Bars are drawn only on
// a terminal, so logs stay clean.
func newBar(w io.Writer, name string, total, start int64) *bar {
	if w == nil || !isTerminal(w) {
		return &bar{}
	}
	if total < 0 {
		total = 0
	}
	p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
	b := p.AddBar(total,
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Name(" "), decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace)),
	)
	if start > 0 {
		b.SetCurrent(start)
	}
	return &bar{p: p, b: b}
}

// add counts n more bytes.
func (b *bar) add(n int) {
	if b.b != nil {
		b.b.IncrBy(n)
	}
}

// reset moves the bar back to n bytes (when a server ignored the Range request).
func (b *bar) reset(n int64) {
	if b.b != nil {
		b.b.SetCurrent(n)
	}
}

// finish ends the bar, complete or not, and waits for the last redraw.
func (b *bar) finish(ok bool) {
	if b.b == nil {
		return
	}
	if ok {
		b.b.SetTotal(-1, true)
	} else {
		b.b.Abort(false)
	}
	b.p.Wait()
}
