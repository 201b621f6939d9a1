package web_test

import (
	"context"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/web/backend"
)

const chromiumPath = "/usr/bin/chromium"

// testOut is the folder for screenshots: $COLSMOL_TEST_OUT/web, or testdata/out/web (gitignored).
func testOut(t *testing.T) string {
	base := os.Getenv("COLSMOL_TEST_OUT")
	if base == "" {
		base = filepath.Join("..", "testdata", "out")
	}
	dir := filepath.Join(base, "web")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts headless Chromium with a fresh profile for the test.
func newBrowser(t *testing.T) context.Context {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("%s not found: install Debian's chromium package to run the browser test (CI does)", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func TestBrowser_SearchViewUpload(t *testing.T) {
	ctx := newBrowser(t)
	em := tinyRetriever(t)
	lib, _ := plantedLibrary(t)
	o := lib.options(em)
	o.Indexer = backend.Indexer{Store: lib.st, Embedder: em, Renderer: renderer(t)}
	gen := optionalGenerator(t)
	if gen != nil {
		o.Answerer = backend.Answerer{Store: lib.st, Embedder: em, Generator: gen, Params: generate.Params{MaxNewTokens: 8}}
		o.GeneratorName = "tiny-smolvlm"
	}
	_, base := startServer(t, o)
	out := testOut(t)

	// Search from the box, as a user does.
	must(t, "search", chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), testQuery),
		chromedp.Click(chromedp.ID("go")),
		chromedp.WaitVisible(chromedp.CSS("li.card")),
	))
	cards, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("li.card").length`))
	must(t, "count cards", err)
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("li.card .meta")))
	must(t, "read the first card", err)
	if cards != 3 || !strings.Contains(first, "alpha report.pdf") || !strings.Contains(first, "page 2") {
		t.Errorf("%d cards, the first reads %q; want 3, alpha report.pdf page 2 first", cards, first)
	}
	// The document whose name holds markup shows that name as text, and no element came out of it.
	injected, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('img[src="x"]').length + document.scripts.length - 1`))
	must(t, "look for injected elements", err)
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("li.card .name")].some((e) => e.textContent === `+"`"+evilName+"`"+`)`))
	must(t, "read the card names", err)
	if injected != 0 || !shown {
		t.Errorf("%d injected elements, name shown as text: %v; want 0 and true", injected, shown)
	}
	screenshot(t, ctx, out, "1-results.png")

	// Open alpha's page 1 (the second result) and wait for its similarity map.
	must(t, "open page 1", chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a.result[data-page="1"]`)),
		chromedp.WaitVisible(chromedp.ID("viewer-img")),
	))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("heat").dataset.ready === "1" && document.getElementById("viewer-img").complete`, chromedp.WithPollingTimeout(30*time.Second)))
	must(t, "wait for the similarity map", err)
	hot, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`(() => {
		const c = document.getElementById("heat");
		const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let best = 0;
		for (let i = 3; i < d.length; i += 4) if (d[i] > d[best * 4 + 3]) best = (i - 3) / 4;
		return [c.width, c.height, best % c.width, Math.floor(best / c.width)];
	})()`))
	must(t, "read the map", err)
	if len(hot) != 4 || hot[0] != 16 || hot[1] != 16 || hot[2] != 10 || hot[3] != 1 {
		t.Errorf("canvas %v (width, height, hottest x, y); want 16×16, hottest at (10, 1)", hot)
	}
	note, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("heat-note")))
	must(t, "read the note", err)
	if !strings.Contains(note, "2×2 tiles") {
		t.Errorf("map note %q; want the tile grid", note)
	}
	screenshot(t, ctx, out, "2-similarity-map.png")
	must(t, "close", chromedp.Do(ctx, chromedp.Click(chromedp.ID("viewer-close"))))

	// Upload through the file input of the drop zone and watch the document appear.
	up := filepath.Join(t.TempDir(), "uploaded page.png")
	must(t, "write the upload", os.WriteFile(up, pngFile(t, 600, 800, color.RGBA{30, 120, 200, 255}), 0o644))
	must(t, "upload", chromedp.Do(ctx, chromedp.SetUploadFiles(chromedp.ID("file"), []string{up})))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("docs").textContent.includes("uploaded page.png") && document.querySelector("#uploads .job.done") !== null`, chromedp.WithPollingTimeout(2*time.Minute)))
	if err != nil {
		screenshot(t, ctx, out, "3-upload-failed.png")
		msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("uploads")))
		t.Fatalf("the upload did not show up in the document list: %v (upload panel: %q)", err, msg)
	}
	count, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("doc-count")))
	must(t, "read the count", err)
	if count != "3" {
		t.Errorf("document count %q; want 3", count)
	}
	screenshot(t, ctx, out, "3-uploaded.png")

	// A streamed answer with its sources, when the tiny generator is built.
	if gen != nil {
		must(t, "ask", chromedp.Do(ctx,
			chromedp.SetValue(chromedp.ID("question"), "What is the quarterly revenue?"),
			chromedp.Click(chromedp.ID("ask-go")),
		))
		_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#sources li").length === 2`, chromedp.WithPollingTimeout(time.Minute)))
		answer, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("answer")))
		must(t, "wait for the answer (answer panel: "+answer+")", err)
		src, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#sources li")))
		must(t, "read the sources", err)
		if !strings.Contains(src, "alpha report.pdf, page 2") || strings.HasPrefix(answer, "No answer") {
			t.Errorf("first source %q, answer %q; want alpha report.pdf page 2 and an answer", src, answer)
		}
		screenshot(t, ctx, out, "3b-answer.png")
	}

	// The same results on a phone-sized screen, and the server-rendered page view.
	must(t, "phone", chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(base+"/?q="+strings.ReplaceAll(testQuery, " ", "+")),
		chromedp.WaitVisible(chromedp.CSS("li.card")),
	))
	screenshot(t, ctx, out, "4-phone.png")
	must(t, "view", chromedp.Do(ctx,
		chromedp.EmulateViewport(1000, 900),
		chromedp.Navigate(base+"/view/"+lib.alpha.ID+"/1?q="+strings.ReplaceAll(testQuery, " ", "+")),
		chromedp.WaitVisible(chromedp.CSS("img.heat")),
	))
	screenshot(t, ctx, out, "5-page-view.png")
}
