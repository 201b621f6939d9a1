package indexer

import (
	"fmt"
)

// plan is the dry run: page sizes and tile counts without rendering.
func (x *run) plan(todo []*job) error {
	spt := x.o.SecondsPerTile
	if spt <= 0 {
		spt = EstimateSecondsPerTile()
	}
	x.s.SecondsPerTile = spt
	for _, j := range todo {
		if err := x.ctx.Err(); err != nil {
			return err
		}
		data, sha, err := read(j.file.Path)
		if err != nil {
			x.fail(j.file.Path, err)
			continue
		}
		how, d, err := x.known(j, sha)
		if err != nil {
			return fmt.Errorf("read the index: %w", err)
		}
		if how != "" {
			act := map[string]string{"same": "unchanged", "moved": "moved", "duplicate": "duplicate"}[how]
			x.s.Plan = append(x.s.Plan, PlannedFile{Path: j.file.Path, Action: act, Pages: d.Pages})
			x.s.Skipped++
			continue
		}
		sizes, err := x.r.PageSizes(x.ctx, data, x.sizeFunc())
		if err != nil {
			x.fail(j.file.Path, err)
			continue
		}
		pf := PlannedFile{Path: j.file.Path, Action: "new", Pages: len(sizes)}
		if j.existing != nil {
			pf.Action = "changed"
		}
		for _, sz := range sizes {
			_, _, n := Tiles(sz.X, sz.Y, x.pageEdge(sz.X, sz.Y))
			pf.Tiles += n
		}
		pf.Seconds = float64(pf.Tiles) * spt
		x.s.Plan = append(x.s.Plan, pf)
		x.s.Pages += pf.Pages
	}
	return nil
}
