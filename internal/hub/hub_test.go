package hub

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/colsmol/colsmol/internal/hub/hubtest"
)

const (
	commitA = "0123456789abcdef0123456789abcdef01234567"
	commitB = "89abcdef0123456789abcdef0123456789abcdef"
)

// clearEnv keeps the developer's Hugging Face settings out of the tests.
func clearEnv(t *testing.T) {
	for _, n := range []string{"HF_ENDPOINT", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN",
		"HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "XDG_CACHE_HOME"} {
		t.Setenv(n, "")
	}
}

func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func testRepo() *hubtest.Repo {
	return &hubtest.Repo{ID: "org/model", Commit: commitA, Files: map[string][]byte{
		"config.json":         []byte(`{"model_type":"idefics3"}`),
		"onnx/model.onnx":     randomBytes(10000, 1),
		"onnx/model_q4.onnx":  randomBytes(4000, 2),
		"tokenizer.json":      []byte(`{"version":"1.0"}`),
		"README.md":           []byte("# model\n"),
		"weights.safetensors": randomBytes(3000, 3),
	}}
}

func testOptions(t *testing.T, h *hubtest.Hub) Options {
	clearEnv(t)
	home := t.TempDir()
	return Options{Endpoint: h.URL(), Home: home, CacheDir: filepath.Join(home, "hub"), Retries: 3, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond}
}

func readLinked(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func countRequests(h *hubtest.Hub, server, method string) int {
	n := 0
	for _, r := range h.Requests() {
		if r.Server == server && r.Method == method {
			n++
		}
	}
	return n
}

func TestDownloadWritesHuggingFaceLayout(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	ctx := context.Background()
	repoDir := filepath.Join(o.CacheDir, "models--org--model")

	cases := []struct {
		file, link string
	}{
		{"config.json", "../../blobs/" + hubtest.GitBlobID(repo.Files["config.json"])},
		{"onnx/model.onnx", "../../../blobs/" + hubtest.SHA256(repo.Files["onnx/model.onnx"])},
	}
	for _, c := range cases {
		p, err := Download(ctx, "org/model", "main", c.file, o)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		want := filepath.Join(repoDir, "snapshots", commitA, filepath.FromSlash(c.file))
		if p != want {
			t.Errorf("%s: path %s, want %s", c.file, p, want)
		}
		if l, err := os.Readlink(p); err != nil || l != c.link {
			t.Errorf("%s: link %q (%v), want %q", c.file, l, err, c.link)
		}
		if !bytes.Equal(readLinked(t, p), repo.Files[c.file]) {
			t.Errorf("%s: content differs", c.file)
		}
	}
	if b, err := os.ReadFile(filepath.Join(repoDir, "refs", "main")); err != nil || string(b) != commitA {
		t.Errorf("refs/main = %q, %v", b, err)
	}
	// The LFS blob is named by its sha256 (X-Linked-Etag), never by the CDN's or the Hub's own ETag.
	entries, _ := os.ReadDir(filepath.Join(repoDir, "blobs"))
	if len(entries) != 2 {
		t.Errorf("blobs: %d entries, want 2", len(entries))
	}
	gets := countRequests(h, "cdn", "GET")
	if gets != 1 {
		t.Errorf("CDN GETs = %d, want 1", gets)
	}
	// A second download finds the blob: a HEAD, no GET.
	if _, err := Download(ctx, "org/model", "main", "onnx/model.onnx", o); err != nil {
		t.Fatal(err)
	}
	if n := countRequests(h, "cdn", "GET"); n != gets {
		t.Errorf("second download fetched again (%d CDN GETs)", n)
	}
	// A commit revision with the file cached needs no request at all.
	before := len(h.Requests())
	if _, err := Download(ctx, "org/model", commitA, "config.json", o); err != nil {
		t.Fatal(err)
	}
	if len(h.Requests()) != before {
		t.Errorf("download by cached commit asked the Hub")
	}
}

func TestResumeAfterDroppedConnection(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	h.CutAfter("onnx/model.onnx", 3000, 2500)
	p, err := Download(context.Background(), "org/model", "main", "onnx/model.onnx", o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readLinked(t, p), repo.Files["onnx/model.onnx"]) {
		t.Fatal("resumed file differs")
	}
	var ranges []string
	for _, r := range h.Requests() {
		if r.Server == "cdn" && r.Method == "GET" {
			ranges = append(ranges, r.Range)
		}
	}
	want := []string{"", "bytes=3000-", "bytes=5500-"}
	if strings.Join(ranges, "|") != strings.Join(want, "|") {
		t.Errorf("CDN ranges %q, want %q", ranges, want)
	}
}

func TestResumeAcrossRuns(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	o.Retries = -1
	h.CutAfter("onnx/model.onnx", 4096)
	_, err := Download(context.Background(), "org/model", "main", "onnx/model.onnx", o)
	if err == nil {
		t.Fatal("cut download succeeded without retries")
	}
	blob := filepath.Join(o.CacheDir, "models--org--model", "blobs", hubtest.SHA256(repo.Files["onnx/model.onnx"]))
	if st, err := os.Stat(blob + ".incomplete"); err != nil || st.Size() != 4096 {
		t.Fatalf("partial blob: %v %v", st, err)
	}
	p, err := Download(context.Background(), "org/model", "main", "onnx/model.onnx", o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readLinked(t, p), repo.Files["onnx/model.onnx"]) {
		t.Fatal("resumed file differs")
	}
	reqs := h.Requests()
	if last := reqs[len(reqs)-1]; last.Server != "cdn" || last.Range != "bytes=4096-" {
		t.Errorf("last request %+v, want a CDN GET with Range bytes=4096-", last)
	}
	if _, err := os.Stat(blob + ".incomplete"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf(".incomplete left behind: %v", err)
	}
}

func TestServerIgnoringRange(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	h.IgnoreRange(true)
	h.CutAfter("onnx/model.onnx", 7000)
	p, err := Download(context.Background(), "org/model", "main", "onnx/model.onnx", o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readLinked(t, p), repo.Files["onnx/model.onnx"]) {
		t.Fatal("file differs after a 200 answer to a Range request")
	}
}

func TestHashMismatch(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	h.Corrupt("onnx/model.onnx")
	_, err := Download(context.Background(), "org/model", "main", "onnx/model.onnx", o)
	if !errors.Is(err, ErrHashMismatch) {
		t.Fatalf("err = %v, want a hash mismatch", err)
	}
	sum := hubtest.SHA256(repo.Files["onnx/model.onnx"])
	if !strings.Contains(err.Error(), sum) || !strings.Contains(err.Error(), "onnx/model.onnx") {
		t.Errorf("message lacks the file or the expected hash: %v", err)
	}
	blobs := filepath.Join(o.CacheDir, "models--org--model", "blobs")
	for _, name := range []string{sum, sum + ".incomplete"} {
		if _, err := os.Stat(filepath.Join(blobs, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind after a mismatch", name)
		}
	}
	if _, err := os.Lstat(filepath.Join(o.CacheDir, "models--org--model", "snapshots", commitA, "onnx", "model.onnx")); err == nil {
		t.Error("snapshot link made for a corrupt file")
	}
	if n := countRequests(h, "cdn", "GET"); n != 1 {
		t.Errorf("a hash mismatch was retried (%d GETs)", n)
	}
}

func TestHTTPErrors(t *testing.T) {
	gated := &hubtest.Repo{ID: "org/gated", Commit: commitB, Gated: true, Files: map[string][]byte{"config.json": []byte("{}")}}
	h := hubtest.New(testRepo(), gated)
	h.Token = "hf_secret"
	defer h.Close()
	o := testOptions(t, h)
	ctx := context.Background()
	cases := []struct {
		name, repo, rev, file string
		is                    error
		words                 []string
	}{
		{"gated", "org/gated", "main", "config.json", ErrUnauthorized, []string{"org/gated", "401", "gated", "HF_TOKEN"}},
		{"no repo", "org/nothing", "main", "config.json", ErrNotFound, []string{"org/nothing", "config.json", "main", "404"}},
		{"no file", "org/model", "main", "missing.json", ErrNotFound, []string{"org/model", "missing.json", "404"}},
		{"no revision", "org/model", "v9", "config.json", ErrNotFound, []string{"org/model", "v9", "404"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Download(ctx, c.repo, c.rev, c.file, o)
			if !errors.Is(err, c.is) {
				t.Fatalf("err = %v, want %v", err, c.is)
			}
			for _, w := range c.words {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q lacks %q", err, w)
				}
			}
		})
	}
	// A wrong token is named as such.
	o.Token = "hf_wrong"
	_, err := Download(ctx, "org/gated", "main", "config.json", o)
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), "token in HF_TOKEN was sent") {
		t.Errorf("wrong token: %v", err)
	}
	// Client errors are not retried.
	if n := len(h.Requests()); n != 5 {
		t.Errorf("%d requests for 5 failing calls: 4xx answers must not be retried", n)
	}
}

func TestTokenGoesToHubOnly(t *testing.T) {
	repo := testRepo()
	repo.Gated = true
	h := hubtest.New(repo)
	h.Token = "hf_secret"
	defer h.Close()
	o := testOptions(t, h)
	o.Token = "hf_secret"
	if _, err := Pull(context.Background(), Request{Repo: "org/model"}, o); err != nil {
		t.Fatal(err)
	}
	hub, cdn := 0, 0
	for _, r := range h.Requests() {
		switch r.Server {
		case "hub":
			hub++
			if r.Authorization != "Bearer hf_secret" {
				t.Errorf("hub request %s %s without the token", r.Method, r.Path)
			}
		case "cdn":
			cdn++
			if r.Authorization != "" {
				t.Errorf("token sent to the CDN: %s %s", r.Method, r.Path)
			}
		}
	}
	if hub == 0 || cdn == 0 {
		t.Errorf("hub %d, cdn %d requests: the test did not exercise both", hub, cdn)
	}
}

func TestRetriesOn5xx(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	h.Fail("/org/model/resolve/", 2)
	h.Fail("cdn:/blobs/", 1)
	p, err := Download(context.Background(), "org/model", "main", "onnx/model.onnx", o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readLinked(t, p), repo.Files["onnx/model.onnx"]) {
		t.Fatal("content differs")
	}
	// Without retries the same fault ends the call with a message about the Hub failing.
	o.Retries = -1
	h.Fail("/org/model/resolve/", 1)
	_, err = Download(context.Background(), "org/model", "main", "config.json", o)
	if err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("err = %v, want an HTTP 503 message", err)
	}
}

func TestOffline(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	o := testOptions(t, h)
	ctx := context.Background()
	res, err := Pull(ctx, Request{Repo: "org/model", Files: []string{"config.json", "onnx/model.onnx"}}, o)
	if err != nil {
		t.Fatal(err)
	}
	h.Close() // the Hub is gone from here on

	// A network failure falls back to the cache.
	p, err := Download(ctx, "org/model", "main", "onnx/model.onnx", o)
	if err != nil {
		t.Fatalf("with the Hub down: %v", err)
	}
	if p != filepath.Join(res.Dir, "onnx", "model.onnx") {
		t.Errorf("path %s", p)
	}
	if _, err := Pull(ctx, Request{Repo: "org/model", Files: []string{"config.json"}}, o); err != nil {
		t.Errorf("snapshot with the Hub down: %v", err)
	}
	// HF_HUB_OFFLINE=1 from the environment.
	t.Setenv("HF_HUB_OFFLINE", "1")
	o2 := o
	o2.Endpoint = "http://127.0.0.1:1" // would fail if asked
	if _, err := Download(ctx, "org/model", "main", "config.json", o2); err != nil {
		t.Errorf("offline: %v", err)
	}
	// A missing file gives one message that names it, the command and the place.
	o2.PullHint = "colsmol model pull colsmol-test"
	_, err = Pull(ctx, Request{Repo: "org/model", Files: []string{"config.json", "tokenizer.json", "onnx/model_q4.onnx"}}, o2)
	var nc *NotCachedError
	if !errors.As(err, &nc) || !errors.Is(err, ErrNotCached) {
		t.Fatalf("err = %v, want NotCachedError", err)
	}
	msg := err.Error()
	for _, w := range []string{"tokenizer.json", "onnx/model_q4.onnx", "colsmol model pull colsmol-test", res.Dir, "HF_HUB_OFFLINE"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
	if strings.Contains(msg, "config.json") {
		t.Errorf("message names a cached file: %q", msg)
	}
	// An unknown repository offline.
	_, err = Download(ctx, "org/other", "main", "config.json", o2)
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "org/other") {
		t.Errorf("unknown repo offline: %v", err)
	}
}

// writePythonCache writes, by hand, what huggingface_hub leaves after hf_hub_download of two files.
func writePythonCache(t *testing.T, cacheDir string, repo *hubtest.Repo, files ...string) {
	t.Helper()
	dir := filepath.Join(cacheDir, "models--"+strings.ReplaceAll(repo.ID, "/", "--"))
	for _, f := range files {
		etag := hubtest.ETag(repo.Files[f])
		must(t, os.MkdirAll(filepath.Join(dir, "blobs"), 0o755))
		must(t, os.WriteFile(filepath.Join(dir, "blobs", etag), repo.Files[f], 0o644))
		ptr := filepath.Join(dir, "snapshots", repo.Commit, filepath.FromSlash(f))
		must(t, os.MkdirAll(filepath.Dir(ptr), 0o755))
		up := strings.Repeat("../", strings.Count(f, "/")+2)
		must(t, os.Symlink(up+"blobs/"+etag, ptr))
	}
	must(t, os.MkdirAll(filepath.Join(dir, "refs"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "refs", "main"), []byte(repo.Commit), 0o644))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestReusesPythonCache(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	writePythonCache(t, o.CacheDir, repo, "config.json", "onnx/model.onnx")
	ctx := context.Background()

	offline := o
	offline.Offline = true
	res, err := Pull(ctx, Request{Repo: "org/model", Files: []string{"config.json", "onnx/model.onnx"}}, offline)
	if err != nil {
		t.Fatalf("offline use of a huggingface_hub cache: %v", err)
	}
	if !bytes.Equal(readLinked(t, filepath.Join(res.Dir, "onnx", "model.onnx")), repo.Files["onnx/model.onnx"]) {
		t.Error("content differs")
	}
	// Online: the Hub is asked (HEAD) but nothing cached is downloaded again; the missing file is.
	res, err = Pull(ctx, Request{Repo: "org/model", Files: []string{"config.json", "onnx/model.onnx", "onnx/model_q4.onnx"}}, o)
	if err != nil {
		t.Fatal(err)
	}
	if n := countRequests(h, "cdn", "GET"); n != 1 {
		t.Errorf("%d CDN GETs, want 1 (only the missing file)", n)
	}
	for _, r := range h.Requests() {
		if r.Method == "GET" && strings.Contains(r.Path, "config.json") {
			t.Error("cached config.json fetched again")
		}
	}
	if res.Commit != commitA || len(res.Files) != 3 {
		t.Errorf("result %+v", res)
	}
}

func TestLockAgainstConcurrentPulls(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	ctx := context.Background()
	sum := hubtest.SHA256(repo.Files["onnx/model.onnx"])

	// Someone else (Python's filelock takes the same flock) holds the blob's lock.
	lockPath := filepath.Join(o.CacheDir, ".locks", "models--org--model", sum+".lock")
	must(t, os.MkdirAll(filepath.Dir(lockPath), 0o755))
	lf, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, 0o644)
	must(t, err)
	must(t, syscall.Flock(int(lf.Fd()), syscall.LOCK_EX))
	done := make(chan error, 1)
	go func() {
		_, err := Download(ctx, "org/model", "main", "onnx/model.onnx", o)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("download finished while the lock was held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if n := countRequests(h, "cdn", "GET"); n != 0 {
		t.Fatalf("downloaded while the lock was held")
	}
	// The holder finishes the blob, then releases: the waiting download takes it without fetching.
	must(t, os.WriteFile(filepath.Join(o.CacheDir, "models--org--model", "blobs", sum), repo.Files["onnx/model.onnx"], 0o644))
	must(t, syscall.Flock(int(lf.Fd()), syscall.LOCK_UN))
	lf.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := countRequests(h, "cdn", "GET"); n != 0 {
		t.Errorf("%d CDN GETs after the other holder finished the blob", n)
	}

	// Two pulls at once of a fresh file: one download, both succeed.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, errs[i] = Download(ctx, "org/model", "main", "weights.safetensors", o)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countRequests(h, "cdn", "GET"); n != 1 {
		t.Errorf("%d CDN GETs for two concurrent pulls, want 1", n)
	}
}

func TestEnvironment(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	clearEnv(t)
	ctx := context.Background()
	home := t.TempDir()
	t.Setenv("HF_ENDPOINT", h.URL()+"/")
	t.Setenv("HF_HOME", home)
	o := Options{Backoff: time.Millisecond}
	p, err := Download(ctx, "org/model", "main", "config.json", o)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(home, "hub", "models--org--model", "snapshots", commitA, "config.json"); p != want {
		t.Errorf("HF_HOME: %s, want %s", p, want)
	}
	cache := t.TempDir()
	t.Setenv("HF_HUB_CACHE", cache)
	p, err = Download(ctx, "org/model", "main", "config.json", o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p, cache+string(filepath.Separator)) {
		t.Errorf("HF_HUB_CACHE: %s not under %s", p, cache)
	}
	// The token: HF_TOKEN, else $HF_HOME/token (huggingface-cli login).
	must(t, os.WriteFile(filepath.Join(home, "token"), []byte("hf_fromfile\n"), 0o600))
	if got := FromEnv().Token; got != "hf_fromfile" {
		t.Errorf("token from file = %q", got)
	}
	t.Setenv("HF_TOKEN", "hf_env")
	if got := FromEnv(); got.Token != "hf_env" || got.Endpoint != h.URL() || got.Offline {
		t.Errorf("FromEnv = %+v", got)
	}
	for _, v := range []string{"1", "true", "YES", "on"} {
		t.Setenv("HF_HUB_OFFLINE", v)
		if !FromEnv().Offline {
			t.Errorf("HF_HUB_OFFLINE=%s not offline", v)
		}
	}
	t.Setenv("HF_HUB_OFFLINE", "0")
	if FromEnv().Offline {
		t.Error("HF_HUB_OFFLINE=0 is offline")
	}
	t.Setenv("HF_HOME", "")
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := FromEnv(); got.Home != "/x/cache/huggingface" || got.CacheDir != "/x/cache/huggingface/hub" {
		t.Errorf("XDG_CACHE_HOME: home %s cache %s", got.Home, got.CacheDir)
	}
}

func TestSnapshotListingPatternsAndDatasets(t *testing.T) {
	ds := &hubtest.Repo{Type: "dataset", ID: "vidore/docvqa_test_subsampled", Commit: commitB, Files: map[string][]byte{
		"data/test-00000-of-00002.parquet": randomBytes(2000, 4),
		"data/test-00001-of-00002.parquet": randomBytes(2100, 5),
		"README.md":                        []byte("# ds\n"),
	}}
	h := hubtest.New(testRepo(), ds)
	defer h.Close()
	o := testOptions(t, h)
	ctx := context.Background()

	dir, err := Snapshot(ctx, "org/model", "", []string{"*.json", "onnx/"}, o)
	if err != nil {
		t.Fatal(err)
	}
	got := snapshotFiles(dir)
	want := []string{"config.json", "onnx/model.onnx", "onnx/model_q4.onnx", "tokenizer.json"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("files %v, want %v", got, want)
	}
	od := o
	od.RepoType = RepoDataset
	res, err := Pull(ctx, Request{Repo: "vidore/docvqa_test_subsampled", Patterns: []string{"data/*.parquet"}}, od)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(o.CacheDir, "datasets--vidore--docvqa_test_subsampled", "snapshots", commitB); res.Dir != want || len(res.Files) != 2 {
		t.Errorf("dataset snapshot %+v", res)
	}
	for _, r := range h.Requests() {
		if r.Method == "HEAD" && strings.Contains(r.Path, "docvqa") && !strings.HasPrefix(r.Path, "/datasets/") {
			t.Errorf("dataset file asked without /datasets/: %s", r.Path)
		}
	}
	repos, err := ListCache(o)
	if err != nil || len(repos) != 2 || repos[1].Type != RepoDataset || repos[1].Repo != "vidore/docvqa_test_subsampled" || repos[1].SizeBytes != 4100 {
		t.Errorf("ListCache with a dataset: %+v %v", repos, err)
	}
	// Everything, offline afterwards: the snapshot folder as it is.
	all, err := Pull(ctx, Request{Repo: "org/model"}, o)
	if err != nil || len(all.Files) != 6 {
		t.Fatalf("all files: %+v %v", all, err)
	}
	o.Offline = true
	off, err := Pull(ctx, Request{Repo: "org/model", Patterns: []string{"onnx/*.onnx"}}, o)
	if err != nil || len(off.Files) != 2 {
		t.Errorf("offline patterns: %+v %v", off, err)
	}
	// Optional files: taken when present, skipped when not.
	o.Offline = false
	opt, err := Pull(ctx, Request{Repo: "org/model", Files: []string{"config.json"}, Optional: []string{"generation_config.json", "tokenizer.json"}}, o)
	if err != nil || strings.Join(opt.Files, ",") != "config.json,tokenizer.json" {
		t.Errorf("optional: %+v %v", opt, err)
	}
}

func TestRejectsUnsafeNames(t *testing.T) {
	evil := &hubtest.Repo{ID: "org/evil", Commit: commitB, Files: map[string][]byte{"../../escape.txt": []byte("x")}}
	h := hubtest.New(evil)
	defer h.Close()
	o := testOptions(t, h)
	if _, err := Pull(context.Background(), Request{Repo: "org/evil"}, o); err == nil || !strings.Contains(err.Error(), "invalid file name") {
		t.Errorf("traversal in the listing: %v", err)
	}
	for _, f := range []string{"../x", "/etc/passwd", "a/../../b", ""} {
		if _, err := Download(context.Background(), "org/model", "main", f, o); err == nil {
			t.Errorf("file %q accepted", f)
		}
	}
	for _, r := range []string{"a/b/c", "../x", "org--x/y", ""} {
		if _, err := Download(context.Background(), r, "main", "config.json", o); err == nil {
			t.Errorf("repo %q accepted", r)
		}
	}
}

func TestNormalizeETagAndGlobs(t *testing.T) {
	for in, want := range map[string]string{`"abc"`: "abc", `W/"abc"`: "abc", "abc": "abc", ` "x" `: "x"} {
		if got := normalizeETag(in); got != want {
			t.Errorf("normalizeETag(%q) = %q, want %q", in, got, want)
		}
	}
	// Expected values follow Python's fnmatch.fnmatch, where * also matches "/".
	cases := []struct {
		pat, name string
		want      bool
	}{
		{"*.json", "config.json", true},
		{"*.json", "sub/config.json", true},
		{"onnx/*", "onnx/a/b.onnx", true},
		{"onnx/vision_encoder?.onnx", "onnx/vision_encoder_.onnx", true},
		{"[ab].txt", "a.txt", true},
		{"[!ab].txt", "a.txt", false},
		{"*.json", "config.jsonl", false},
		{"model.onnx", "onnx/model.onnx", false},
	}
	for _, c := range cases {
		if got := globRegexp(c.pat).MatchString(c.name); got != c.want {
			t.Errorf("fnmatch(%q, %q) = %v, want %v", c.name, c.pat, got, c.want)
		}
	}
}

func TestRenamedRepositoryRedirect(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	h.Rename("org/old-name", "org/model")
	o := testOptions(t, h)
	p, err := Download(context.Background(), "org/old-name", "main", "onnx/model.onnx", o)
	if err != nil {
		t.Fatal(err)
	}
	// Stored under the name asked for, as huggingface_hub does; the LFS redirect was not followed by HEAD.
	if want := filepath.Join(o.CacheDir, "models--org--old-name", "snapshots", commitA, "onnx", "model.onnx"); p != want {
		t.Errorf("path %s, want %s", p, want)
	}
	if !bytes.Equal(readLinked(t, p), repo.Files["onnx/model.onnx"]) {
		t.Error("content differs")
	}
	if n := countRequests(h, "cdn", "HEAD"); n != 0 {
		t.Errorf("HEAD followed the absolute redirect to the CDN %d times", n)
	}
}

func TestStalledTransferIsRetried(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	o.IdleTimeout = 100 * time.Millisecond
	h.StallAfter("onnx/model.onnx", 6000)
	p, err := Download(context.Background(), "org/model", "main", "onnx/model.onnx", o)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readLinked(t, p), repo.Files["onnx/model.onnx"]) {
		t.Fatal("content differs")
	}
	reqs := h.Requests()
	if last := reqs[len(reqs)-1]; last.Range != "bytes=6000-" {
		t.Errorf("last request %+v, want a resume at byte 6000", last)
	}
}

func TestHubThatDoesNotAnswer(t *testing.T) {
	repo := testRepo()
	h := hubtest.New(repo)
	defer h.Close()
	o := testOptions(t, h)
	if _, err := Download(context.Background(), "org/model", "main", "config.json", o); err != nil {
		t.Fatal(err)
	}
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	o.Endpoint = hang.URL
	o.HeadTimeout = 50 * time.Millisecond
	o.Retries = 1
	p, err := Download(context.Background(), "org/model", "main", "config.json", o)
	if err != nil || !bytes.Equal(readLinked(t, p), repo.Files["config.json"]) {
		t.Fatalf("cached file with a silent Hub: %v", err)
	}
	_, err = Download(context.Background(), "org/model", "main", "tokenizer.json", o)
	if !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), "did not answer in time") {
		t.Errorf("missing file with a silent Hub: %v", err)
	}
}
