package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/klippa-app/go-pdfium"
	pdferr "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/responses"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/colsmol/colsmol/internal/vlm"
)

// DefaultLongestEdge is the longest side, in pixels, PDF pages are rendered at when nothing else is asked for:
// Idefics3's size.longest_edge (4 tiles of 512), so the processor's first resize is a no-op.
const DefaultLongestEdge = 2048

// MaxPagePixels bounds the size of one rendered page (width × height); larger requests (a huge --dpi on a
// poster-sized page) are refused with an error instead of exhausting memory.
const MaxPagePixels = 80_000_000

// MaxFileBytes bounds the size of a PDF handed to PDFium (its 32-bit WebAssembly memory holds the whole file).
const MaxFileBytes = 1 << 30

// DefaultCacheDir is where wazero keeps the compiled PDFium module: os.UserCacheDir()/colsmol/wazero, or ""
// when the system has no user cache folder.
func DefaultCacheDir() string {
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "colsmol", "wazero")
}

// RendererOptions configure NewRendererWithOptions.
type RendererOptions struct {
	// CacheDir holds wazero's compilation cache; "" means DefaultCacheDir(). When it cannot be created the
	// module is compiled in memory (about 3 s at every start instead of 0.1 s).
	CacheDir string
	// Instances is the number of PDFium instances (one WebAssembly module instance each) that may render at
	// the same time; PDFium is not thread-safe, so this is the renderer's parallelism. 0 means 1.
	Instances int
	// PageTimeout bounds the time PDFium may spend opening a document or rendering one of its pages; a
	// document that takes longer is abandoned with an error (its instance is killed). 0 means 2 minutes.
	PageTimeout time.Duration
	// MemoryLimitMiB caps each instance's WebAssembly memory. 0 means 2048.
	MemoryLimitMiB int
}

// Renderer turns PDF and image files into page images. PDF pages go through PDFium compiled to WebAssembly;
// image files are decoded with vlm.DecodeImage. Use one Renderer per process; its methods are safe for
// concurrent use (up to Instances PDF documents render at once, the others wait).
type Renderer struct {
	pool      pdfium.Pool
	instances int
	timeout   time.Duration

	mu     sync.Mutex
	closed bool
}

// NewRenderer starts a renderer with one PDFium instance and the compilation cache in cacheDir ("" for
// DefaultCacheDir()).
func NewRenderer(cacheDir string) (*Renderer, error) {
	return NewRendererWithOptions(RendererOptions{CacheDir: cacheDir})
}

// NewRendererWithOptions starts a renderer. Nothing of the host file system is mounted into the WebAssembly
// sandbox: documents are handed over as bytes.
func NewRendererWithOptions(o RendererOptions) (*Renderer, error) {
	if o.Instances <= 0 {
		o.Instances = 1
	}
	if o.PageTimeout <= 0 {
		o.PageTimeout = 2 * time.Minute
	}
	if o.MemoryLimitMiB <= 0 {
		o.MemoryLimitMiB = 2048
	}
	if o.CacheDir == "" {
		o.CacheDir = DefaultCacheDir()
	}
	rc := wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithCloseOnContextDone(true).
		WithMemoryLimitPages(uint32(o.MemoryLimitMiB) * 16) // 64 KiB pages
	if o.CacheDir != "" {
		if err := os.MkdirAll(o.CacheDir, 0o755); err == nil {
			if cache, err := wazero.NewCompilationCacheWithDir(o.CacheDir); err == nil {
				rc = rc.WithCompilationCache(cache)
			}
		}
	}
	pool, err := webassembly.Init(webassembly.Config{
		MinIdle:       0,
		MaxIdle:       o.Instances,
		MaxTotal:      o.Instances,
		FSConfig:      wazero.NewFSConfig(), // no mounts
		RuntimeConfig: rc,
		Stdout:        io.Discard,
		Stderr:        io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("start PDFium (WebAssembly): %w", err)
	}
	return &Renderer{pool: pool, instances: o.Instances, timeout: o.PageTimeout}, nil
}

// Instances returns the number of PDF documents the renderer can work on at the same time.
func (r *Renderer) Instances() int { return r.instances }

// Close stops PDFium. Calls after Close fail.
func (r *Renderer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	return r.pool.Close()
}

// SizeFunc chooses the pixel size a PDF page is rendered at from its size in points (1/72 inch). The
// renderer keeps the page's aspect ratio, so the result can differ from the request by a pixel on one side.
type SizeFunc func(widthPt, heightPt float64) (w, h int)

// FitLongestEdge returns a SizeFunc that renders the longest side at edge pixels and the other side as
// Idefics3's first resize would make it (scaled, truncated, rounded up to even), so the processor does not
// resample the page again.
func FitLongestEdge(edge int) SizeFunc {
	return func(wPt, hPt float64) (int, int) { return LongestEdgeSize(wPt, hPt, edge) }
}

// LongestEdgeSize is Idefics3's "resize to the longest edge" size rule (transformers
// _resize_output_size_rescale_to_max_len): the longest side becomes edge, the other side is scaled by the
// aspect ratio, truncated, and rounded up to an even number (at least 1).
func LongestEdgeSize(w, h float64, edge int) (int, int) {
	if w <= 0 || h <= 0 {
		return 0, 0
	}
	aspect := w / h
	var W, H int
	if w >= h {
		W = edge
		H = int(float64(edge) / aspect)
		if H%2 != 0 {
			H++
		}
	} else {
		H = edge
		W = int(float64(edge) * aspect)
		if W%2 != 0 {
			W++
		}
	}
	return max(W, 1), max(H, 1)
}

// AtDPI returns a SizeFunc that renders at a fixed resolution, rounding to the nearest pixel (as poppler does;
// PDFium's own DPI rendering rounds up).
func AtDPI(dpi int) SizeFunc {
	return func(wPt, hPt float64) (int, int) {
		s := float64(dpi) / 72
		return max(int(math.Round(wPt*s)), 1), max(int(math.Round(hPt*s)), 1)
	}
}

// IsPDF reports whether data looks like a PDF: "%PDF-" within its first 1024 bytes, as readers accept.
func IsPDF(data []byte) bool {
	head := data[:min(len(data), 1024)]
	return bytes.Contains(head, []byte("%PDF-"))
}

// PageFunc receives page i (0-based) of n. img is owned by the callee; for PDFs and images alike it is a
// *vlm.RGB.
type PageFunc func(i, n int, img image.Image) error

// Pages calls fn for every page of the file in data (its content decides: a PDF, or an image file which is one
// page), PDF pages rendered with their longest side at DefaultLongestEdge. path is used in messages only.
func (r *Renderer) Pages(ctx context.Context, path string, data []byte, fn func(i, n int, img image.Image) error) error {
	return r.PagesSized(ctx, path, data, FitLongestEdge(DefaultLongestEdge), fn)
}

// PagesSized is Pages with the PDF render size chosen by size.
func (r *Renderer) PagesSized(ctx context.Context, path string, data []byte, size SizeFunc, fn func(i, n int, img image.Image) error) error {
	if len(data) == 0 {
		return errors.New("empty file (0 bytes); nothing to index")
	}
	if IsPDF(data) {
		return r.pdfPages(ctx, data, size, fn)
	}
	img, err := decodeImage(data)
	if err != nil {
		return err
	}
	return fn(0, 1, img)
}

func decodeImage(data []byte) (*vlm.RGB, error) {
	img, err := vlm.DecodeImage(data, vlm.AlphaDrop)
	if err != nil {
		return nil, fmt.Errorf("not a readable PDF or image (%v); re-save or convert it", err)
	}
	return img, nil
}

// PageSizes returns, for every page of the file in data, the pixel size its image will have (PDF pages at
// size, image files as they are), without rendering. It is what `colsmol index --dry-run` plans with.
func (r *Renderer) PageSizes(ctx context.Context, data []byte, size SizeFunc) ([]image.Point, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file (0 bytes); nothing to index")
	}
	if !IsPDF(data) {
		img, err := decodeImage(data)
		if err != nil {
			return nil, err
		}
		return []image.Point{{img.W, img.H}}, nil
	}
	var out []image.Point
	err := r.withDocument(ctx, data, func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, n int, guard guardFunc) error {
		return guard(func() error {
			for i := 0; i < n; i++ {
				ps, err := inst.GetPageSize(&requests.GetPageSize{Page: pageByIndex(doc, i)})
				if err != nil {
					return fmt.Errorf("page %d: %v; the PDF may be damaged, re-save it", i+1, err)
				}
				w, h := size(ps.Width, ps.Height)
				out = append(out, image.Point{w, h})
			}
			return nil
		})
	})
	return out, err
}

func pageByIndex(doc references.FPDF_DOCUMENT, i int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: i}}
}

// guardFunc runs one PDFium call under the renderer's per-call timeout.
type guardFunc func(call func() error) error

// withDocument borrows a PDFium instance, opens data in it and calls fn with the page count. The instance is
// destroyed afterwards (its memory never shrinks otherwise). PDFium calls made through guard (and the opening)
// that run past the renderer's timeout, or a context that ends, interrupt the document by killing its
// instance; time spent outside PDFium (in the caller's page callback) does not count.
func (r *Renderer) withDocument(ctx context.Context, data []byte, fn func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, n int, guard guardFunc) error) (err error) {
	if len(data) > MaxFileBytes {
		return fmt.Errorf("PDF too large (%d MiB, the limit is %d MiB); split it into smaller files", len(data)>>20, MaxFileBytes>>20)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return errors.New("the PDF renderer is closed")
	}
	inst, err := r.pool.GetInstanceWithContext(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("get a PDFium instance: %w", err)
	}
	var killMu sync.Mutex
	var killed, timedOut bool
	kill := func(timeout bool) {
		killMu.Lock()
		defer killMu.Unlock()
		if !killed {
			killed, timedOut = true, timeout
			inst.Kill()
		}
	}
	timer := time.AfterFunc(time.Hour, func() { kill(true) })
	timer.Stop()
	stopCtx := context.AfterFunc(ctx, func() { kill(false) })
	guard := func(call func() error) error {
		timer.Reset(r.timeout)
		defer timer.Stop()
		return call()
	}
	defer func() {
		timer.Stop()
		stopCtx()
		killMu.Lock()
		k, t := killed, timedOut
		killed = true // no kill after this point
		killMu.Unlock()
		if !k {
			inst.Close()
		}
		if p := recover(); p != nil {
			err = fmt.Errorf("PDFium failed on this document (%v); re-save the PDF and index it again", p)
		}
		switch {
		case k && t:
			err = fmt.Errorf("PDFium took longer than %v on one page; re-save or split the PDF", r.timeout)
		case k:
			err = ctx.Err()
		}
	}()

	var opened *responses.OpenDocument
	var pc *responses.FPDF_GetPageCount
	err = guard(func() (err error) {
		if opened, err = inst.OpenDocument(&requests.OpenDocument{File: &data}); err != nil {
			return openError(err)
		}
		if pc, err = inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: opened.Document}); err != nil {
			return fmt.Errorf("count pages: %v; the PDF may be damaged, re-save it", err)
		}
		return nil
	})
	if opened != nil {
		defer inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: opened.Document})
	}
	if err != nil {
		return err
	}
	if pc.PageCount <= 0 {
		return errors.New("the PDF has no pages; nothing to index")
	}
	return fn(inst, opened.Document, pc.PageCount, guard)
}

// openError explains why PDFium could not open a document and what to do.
func openError(err error) error {
	switch {
	case errors.Is(err, pdferr.ErrPassword):
		return errors.New("the PDF is password-protected; save a copy without the password (e.g. qpdf --decrypt) and index that")
	case errors.Is(err, pdferr.ErrSecurity):
		return errors.New("the PDF uses an unsupported encryption; save a copy without encryption and index that")
	case errors.Is(err, pdferr.ErrFormat), errors.Is(err, pdferr.ErrFile):
		return errors.New("not a readable PDF (corrupt or truncated); re-save or download it again")
	}
	return fmt.Errorf("PDFium could not open the PDF (%v); re-save it and index it again", err)
}

// pdfPages renders every page and hands it to fn.
func (r *Renderer) pdfPages(ctx context.Context, data []byte, size SizeFunc, fn PageFunc) error {
	return r.withDocument(ctx, data, func(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, n int, guard guardFunc) error {
		for i := 0; i < n; i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			var img *vlm.RGB
			err := guard(func() (err error) {
				img, err = renderPage(inst, doc, i, size)
				return err
			})
			if err != nil {
				return fmt.Errorf("page %d of %d: %w", i+1, n, err)
			}
			if err := fn(i, n, img); err != nil {
				return err
			}
		}
		return nil
	})
}

// renderPage renders page i at the size chosen by size and copies it out of WebAssembly memory as RGB,
// composited over white where the page is transparent.
func renderPage(inst pdfium.Pdfium, doc references.FPDF_DOCUMENT, i int, size SizeFunc) (*vlm.RGB, error) {
	ps, err := inst.GetPageSize(&requests.GetPageSize{Page: pageByIndex(doc, i)})
	if err != nil {
		return nil, fmt.Errorf("read the page size: %v; the PDF may be damaged, re-save it", err)
	}
	if !(ps.Width > 0 && ps.Height > 0) || math.IsInf(ps.Width, 0) || math.IsInf(ps.Height, 0) {
		return nil, fmt.Errorf("the page has no area (%gx%g pt); re-save the PDF", ps.Width, ps.Height)
	}
	w, h := size(ps.Width, ps.Height)
	if w <= 0 || h <= 0 || int64(w)*int64(h) > MaxPagePixels {
		return nil, fmt.Errorf("the page would be %dx%d pixels (%gx%g pt), more than the %d Mpx limit; use a lower --dpi", w, h, ps.Width, ps.Height, MaxPagePixels/1_000_000)
	}
	res, err := inst.RenderPageInPixels(&requests.RenderPageInPixels{Page: pageByIndex(doc, i), Width: w, Height: h})
	if err != nil {
		return nil, fmt.Errorf("render: %v; the PDF may be damaged, re-save it", err)
	}
	defer res.Cleanup()
	src, ok := res.Result.RenderedImage.(*image.RGBA)
	if !ok || src == nil {
		return nil, errors.New("render: PDFium returned no RGBA image")
	}
	return rgbaToRGB(src, res.Result.HasTransparency), nil
}

// rgbaToRGB copies PDFium's RGBA bitmap (not premultiplied) into a Go-owned RGB image. Transparent pages are
// rendered by PDFium onto transparent black; they are composited over white, as PDF viewers and poppler show
// them.
func rgbaToRGB(src *image.RGBA, transparent bool) *vlm.RGB {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	out := &vlm.RGB{W: w, H: h, Pix: make([]uint8, w*h*3)}
	for y := 0; y < h; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+w*4]
		dst := out.Pix[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			r, g, bl, a := row[4*x], row[4*x+1], row[4*x+2], row[4*x+3]
			if transparent && a != 255 {
				// c·a + 255·(1−a), rounded.
				ia := 255 - uint32(a)
				r = uint8((uint32(r)*uint32(a) + 255*ia + 127) / 255)
				g = uint8((uint32(g)*uint32(a) + 255*ia + 127) / 255)
				bl = uint8((uint32(bl)*uint32(a) + 255*ia + 127) / 255)
			}
			dst[3*x], dst[3*x+1], dst[3*x+2] = r, g, bl
		}
	}
	return out
}
