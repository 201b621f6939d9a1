package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/colsmol/colsmol/web"
)

func TestHealthz(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	status, body, _ := call(t, "GET", base+"/healthz", nil)
	if status != 200 || strings.TrimSpace(string(body)) != `{"status":"ok"}` {
		t.Fatalf("got %d %s; want 200 {\"status\":\"ok\"}", status, body)
	}
}

func TestDocuments_ListAndDelete(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))

	status, body, _ := call(t, "GET", base+"/api/v1/documents", nil)
	list := decode[web.DocumentsResponse](t, body)
	if status != 200 || len(list.Documents) != 2 {
		t.Fatalf("got %d with %d documents; want 200 with 2", status, len(list.Documents))
	}
	byID := map[string]web.DocumentInfo{}
	for _, d := range list.Documents {
		byID[d.DocID] = d
	}
	if d := byID[lib.alpha.ID]; d.Path != "/docs/alpha report.pdf" || d.Pages != 2 || d.Name != "alpha report.pdf" || d.SHA256 == "" || d.IndexedAt.IsZero() {
		t.Errorf("alpha listed as %+v", d)
	}

	t.Run("Delete", func(t *testing.T) {
		status, body, _ := call(t, "DELETE", base+"/api/v1/documents/"+lib.alpha.ID, nil)
		if status != http.StatusNoContent || len(body) != 0 {
			t.Fatalf("got %d %q; want 204 and no body", status, body)
		}
		_, body, _ = call(t, "GET", base+"/api/v1/documents", nil)
		if l := decode[web.DocumentsResponse](t, body); len(l.Documents) != 1 || l.Documents[0].DocID != lib.bet.ID {
			t.Fatalf("after delete: %+v; want only %s", l.Documents, lib.bet.ID)
		}
		status, _, _ = call(t, "GET", base+"/api/v1/pages/"+lib.alpha.ID+"/1/image", nil)
		if status != http.StatusNotFound {
			t.Errorf("image of a deleted page: %d; want 404", status)
		}
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		status, body, res := call(t, "DELETE", base+"/api/v1/documents/0123456789abcdef", nil)
		wantError(t, status, body, res, http.StatusNotFound, "not found")
	})
}

func TestPageImage(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	img := func(q string) (int, []byte) {
		status, body, res := call(t, "GET", base+"/api/v1/pages/"+lib.alpha.ID+"/1/image"+q, nil)
		if status == 200 && res.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("content type %q; want image/jpeg", res.Header.Get("Content-Type"))
		}
		return status, body
	}
	for _, q := range []string{"", "?size=thumb"} {
		status, body := img(q)
		if status != 200 {
			t.Fatalf("image%s: %d %s", q, status, body)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(body))
		want := map[string]int{"": 600, "?size=thumb": 150}[q]
		if err != nil || cfg.Width != want {
			t.Errorf("image%s: %v, width %d; want a JPEG %d wide", q, err, cfg.Width, want)
		}
	}
	bad := map[string]struct {
		path   string
		status int
		msg    string
	}{
		"page zero":     {"/" + lib.alpha.ID + "/0/image", 400, "page"},
		"page word":     {"/" + lib.alpha.ID + "/two/image", 400, "page"},
		"page past end": {"/" + lib.alpha.ID + "/9/image", 404, "not found"},
		"unknown doc":   {"/ffffffffffffffff/1/image", 404, "not found"},
		"bad size":      {"/" + lib.alpha.ID + "/1/image?size=huge", 400, "size"},
		"traversal":     {"/..%2f..%2fetc/1/image", 404, ""},
	}
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			status, body, res := call(t, "GET", base+"/api/v1/pages"+tt.path, nil)
			wantError(t, status, body, res, tt.status, tt.msg)
		})
	}
}

func TestSearch_BadInput(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	long := strings.Repeat("revenue ", 400)
	get := map[string]struct{ query, msg string }{
		"no query":    {"", "query is empty"},
		"blank query": {"?q=%20%20", "query is empty"},
		"k zero":      {"?q=x&k=0", "k must be"},
		"k too big":   {"?q=x&k=101", "k must be"},
		"k negative":  {"?q=x&k=-3", "k must be"},
		"k word":      {"?q=x&k=five", "k must be"},
		"huge query":  {"?q=" + url.QueryEscape(long), "limit"},
		"bad utf8":    {"?q=%ff%fe", "utf-8"},
	}
	for name, tt := range get {
		t.Run("GET "+name, func(t *testing.T) {
			status, body, res := call(t, "GET", base+"/api/v1/search"+tt.query, nil)
			wantError(t, status, body, res, 400, tt.msg)
		})
	}
	post := map[string]struct{ body, ct, msg string }{
		"invalid json":  {`{"query": "x",`, "application/json", "not valid JSON"},
		"not an object": {`["x"]`, "application/json", "not valid JSON"},
		"empty body":    {``, "application/json", "empty"},
		"missing query": {`{"k": 3}`, "application/json", "query is empty"},
		"k as string":   {`{"query": "x", "k": "3"}`, "application/json", "not valid JSON"},
		"k too big":     {`{"query": "x", "k": 1000}`, "application/json", "k must be"},
		"k zero":        {`{"query": "x", "k": 0}`, "application/json", "k must be"},
		"huge query":    {`{"query": "` + long + `"}`, "application/json", "limit"},
		"two values":    {`{"query": "x"} {"query": "y"}`, "application/json", "more than one"},
		"form encoded":  {`query=x`, "application/x-www-form-urlencoded", "application/json"},
		"huge body":     {`{"query": "x", "pad": "` + strings.Repeat("a", 70000) + `"}`, "application/json", "over"},
	}
	for name, tt := range post {
		t.Run("POST "+name, func(t *testing.T) {
			status, body, res := call(t, "POST", base+"/api/v1/search", strings.NewReader(tt.body), "Content-Type", tt.ct)
			wantError(t, status, body, res, 400, tt.msg)
		})
	}
}

func TestSimMap_BadInput(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	tests := map[string]struct {
		path   string
		status int
		msg    string
	}{
		"no query":    {"/" + lib.alpha.ID + "/1/simmap", 400, "query is empty"},
		"huge query":  {"/" + lib.alpha.ID + "/1/simmap?q=" + strings.Repeat("a", 3000), 400, "limit"},
		"bad format":  {"/" + lib.alpha.ID + "/1/simmap?q=x&format=gif", 400, "format"},
		"unknown doc": {"/ffffffffffffffff/1/simmap?q=x", 404, "not found"},
		"bad page":    {"/" + lib.alpha.ID + "/-1/simmap?q=x", 400, "page"},
		"past end":    {"/" + lib.alpha.ID + "/3/simmap?q=x", 404, "not found"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			status, body, res := call(t, "GET", base+"/api/v1/pages"+tt.path, nil)
			wantError(t, status, body, res, tt.status, tt.msg)
		})
	}
}

func TestAsk_NoGenerator(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	status, body, res := call(t, "POST", base+"/api/v1/ask", strings.NewReader(`{"question": "what is the revenue?"}`), "Content-Type", "application/json")
	wantError(t, status, body, res, http.StatusServiceUnavailable, "--generator")

	bad := map[string]struct{ body, msg string }{
		"invalid json":     {`{"question": `, "not valid JSON"},
		"missing question": {`{"k": 2}`, "question is empty"},
		"k too big":        {`{"question": "x", "k": 50}`, "k must be"},
		"huge question":    {`{"question": "` + strings.Repeat("b", 2500) + `"}`, "limit"},
	}
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			status, body, res := call(t, "POST", base+"/api/v1/ask", strings.NewReader(tt.body), "Content-Type", "application/json")
			wantError(t, status, body, res, 400, tt.msg)
		})
	}
}

func TestUpload_BadInput(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	o := lib.options(noModel{})
	o.Indexer = refuseIndexer{t}
	o.MaxUploadBytes = 64 << 10
	_, base := startServer(t, o)
	png := string(pngFile(t, 40, 40, color.RGBA{}))
	tests := map[string]struct {
		parts  [][3]string
		ct     string
		status int
		msg    string
	}{
		"parent folders":  {[][3]string{{"file", "../../etc/cron.d/x.png", png}}, "", 400, "not allowed"},
		"absolute path":   {[][3]string{{"file", "/tmp/x.png", png}}, "", 400, "not allowed"},
		"windows path":    {[][3]string{{"file", `..\..\x.png`, png}}, "", 400, "not allowed"},
		"second is bad":   {[][3]string{{"file", "ok.png", png}, {"file", "../bad.png", png}}, "", 400, "not allowed"},
		"executable":      {[][3]string{{"file", "run.sh", "#!/bin/sh"}}, "", 415, ".pdf"},
		"no file field":   {[][3]string{{"other", "a.png", png}}, "", 400, "no file"},
		"not multipart":   {nil, "application/json", 400, "multipart"},
		"over the limit":  {[][3]string{{"file", "big.png", strings.Repeat("x", 100<<10)}}, "", 413, "limit"},
		"empty file name": {[][3]string{{"file", "", png}}, "", 400, "name"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			body, ct := multipartBody(t, tt.parts...)
			if tt.ct != "" {
				body, ct = strings.NewReader(`{"file": "x"}`), tt.ct
			}
			status, b, res := call(t, "POST", base+"/api/v1/documents", body, "Content-Type", ct)
			wantError(t, status, b, res, tt.status, tt.msg)
		})
	}
	// Nothing of the refused uploads may be left anywhere: the upload folder stays empty, and nothing was
	// written outside it.
	entries, err := os.ReadDir(o.UploadDir)
	if err != nil || len(entries) != 0 {
		t.Errorf("upload folder after refused uploads: %v %v; want empty", entries, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(o.UploadDir), "bad.png")); err == nil {
		t.Error("a file escaped the upload folder")
	}

	t.Run("NoIndexer", func(t *testing.T) {
		_, base := startServer(t, lib.options(noModel{}))
		body, ct := multipartBody(t, [3]string{"file", "a.png", png})
		status, b, res := call(t, "POST", base+"/api/v1/documents", body, "Content-Type", ct)
		wantError(t, status, b, res, http.StatusServiceUnavailable, "colsmol index")
	})
	t.Run("UnknownJob", func(t *testing.T) {
		status, b, res := call(t, "GET", base+"/api/v1/jobs/nope", nil)
		wantError(t, status, b, res, 404, "no upload job")
	})
}

// refuseIndexer fails the test if an upload that should have been refused reached the indexer.
type refuseIndexer struct{ t *testing.T }

func (r refuseIndexer) Index(_ context.Context, paths []string, _ func(web.Progress)) (*web.IndexSummary, error) {
	r.t.Errorf("indexer called with %v for a refused upload", paths)
	return &web.IndexSummary{}, nil
}

func TestRoutes_UnknownAndWrongMethod(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	status, body, res := call(t, "GET", base+"/api/v1/nothing", nil)
	wantError(t, status, body, res, 404, "no route")
	status, body, res = call(t, "PUT", base+"/api/v1/documents", nil)
	wantError(t, status, body, res, 405, "method not allowed")
}

func TestAuth_Token(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	o := lib.options(noModel{})
	o.Token = "s3cret-token"
	_, base := startServer(t, o)

	status, body, res := call(t, "GET", base+"/api/v1/documents", nil)
	wantError(t, status, body, res, 401, "token")
	status, body, res = call(t, "GET", base+"/api/v1/documents", nil, "Authorization", "Bearer wrong")
	wantError(t, status, body, res, 401, "token")
	for name, h := range map[string][]string{
		"bearer": {"Authorization", "Bearer s3cret-token"},
		"cookie": {"Cookie", web.TokenCookie + "=s3cret-token"},
	} {
		if status, body, _ := call(t, "GET", base+"/api/v1/documents", nil, h...); status != 200 {
			t.Errorf("%s: %d %s; want 200", name, status, body)
		}
	}
	if status, body, _ := call(t, "GET", base+"/api/v1/documents?token=s3cret-token", nil); status != 200 {
		t.Errorf("query token: %d %s; want 200", status, body)
	}
	if status, _, _ := call(t, "GET", base+"/healthz", nil); status != 200 {
		t.Errorf("healthz with no token: %d; want 200", status)
	}
	if status, _, _ := call(t, "GET", base+"/", nil); status != 401 {
		t.Errorf("UI with no token: %d; want 401", status)
	}

	// A browser opening /?token=… gets the cookie and is sent to the same page without the token.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(base + "/?q=abc&token=s3cret-token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/?q=abc" {
		t.Errorf("login redirect: %d to %q; want 303 to /?q=abc", res.StatusCode, res.Header.Get("Location"))
	}
	ck := res.Cookies()
	if len(ck) != 1 || ck[0].Name != web.TokenCookie || ck[0].Value != "s3cret-token" || !ck[0].HttpOnly {
		t.Errorf("login cookie: %+v", ck)
	}
}

func TestCrossOriginWriteRefused(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	status, body, res := call(t, "DELETE", base+"/api/v1/documents/"+lib.alpha.ID, nil, "Origin", "http://evil.example")
	wantError(t, status, body, res, 403, "cross-origin")
	u, _ := url.Parse(base)
	if status, body, _ := call(t, "DELETE", base+"/api/v1/documents/"+lib.alpha.ID, nil, "Origin", "http://"+u.Host); status != 204 {
		t.Errorf("same-origin delete: %d %s; want 204", status, body)
	}
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	srv, base := startServer(t, lib.options(noModel{}))
	status, body, _ := call(t, "GET", base+"/api/v1/openapi.json", nil)
	if status != 200 {
		t.Fatalf("openapi.json: %d", status)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v (openapi %q)", err, doc.OpenAPI)
	}
	documented := map[string]bool{}
	for p, ops := range doc.Paths {
		for m := range ops {
			switch m {
			case "get", "post", "put", "delete", "patch", "head", "options":
				documented[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	registered := map[string]bool{}
	for _, r := range srv.Routes() {
		// The HTML pages and their assets are the UI, not the API.
		if r.Path == "/" || strings.HasPrefix(r.Path, "/view/") || strings.HasPrefix(r.Path, "/static/") {
			continue
		}
		p := r.Path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, ":") {
				p = strings.Replace(p, seg, "{"+seg[1:]+"}", 1)
			}
		}
		registered[r.Method+" "+p] = true
	}
	for r := range registered {
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for d := range documented {
		if !registered[d] {
			t.Errorf("openapi.json documents %s, which the server does not serve", d)
		}
	}
	if len(registered) < 11 {
		t.Errorf("only %d API routes registered: %v", len(registered), registered)
	}
}

func TestServe_GracefulShutdown(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base, cancel, done := serveOnLoopback(t, lib.options(noModel{}))
	if status, _, _ := call(t, "GET", base+"/healthz", nil); status != 200 {
		t.Fatalf("healthz: %d", status)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v; want nil after a graceful shutdown", err)
		}
	case <-time.After(web.ShutdownGrace + 5*time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestUI_EscapesNamesAndWorksWithoutScript(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	status, body, res := call(t, "GET", base+"/", nil)
	if status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", status, res.Header.Get("Content-Type"))
	}
	html := string(body)
	if strings.Contains(html, "<img src=x") {
		t.Error("a document name reached the page unescaped")
	}
	if !strings.Contains(html, `<span class="name" title="/docs/beta &lt;img src=x onerror=alert(1)&gt; &amp; &#34;scan&#34;.png">beta &lt;img src=x onerror=alert(1)&gt; &amp; &#34;scan&#34;.png</span>`) {
		t.Errorf("the escaped document name is missing from the document list:\n%s", html)
	}
	for _, want := range []string{`action="/"`, `name="q"`, "alpha report.pdf", "/static/app.js", "/static/style.css", "Answers are off"} {
		if !strings.Contains(html, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q; want scripts from the server only", csp)
	}
	for _, asset := range []string{"/static/app.js", "/static/style.css", "/static/favicon.svg"} {
		if status, body, _ := call(t, "GET", base+asset, nil); status != 200 || len(body) < 100 {
			t.Errorf("%s: %d, %d bytes", asset, status, len(body))
		}
	}
	// A bad search on the server-rendered page is an error page with a 4xx status, not a crash.
	status, body, _ = call(t, "GET", base+"/?q=x&k=0", nil)
	if status != 400 || !strings.Contains(string(body), "k must be") {
		t.Errorf("GET /?k=0: %d; want 400 with the reason on the page", status)
	}
	status, _, _ = call(t, "GET", base+"/view/"+lib.alpha.ID+"/7", nil)
	if status != 404 {
		t.Errorf("view of a missing page: %d; want 404", status)
	}
	status, body, _ = call(t, "GET", base+"/view/"+lib.bet.ID+"/1?q="+url.QueryEscape(`<b>"x"</b>`), nil)
	if status != 200 || strings.Contains(string(body), `<b>"x"</b>`) || !strings.Contains(string(body), "/simmap?format=png&amp;q=%3Cb%3E%22x%22%3C%2Fb%3E") {
		t.Errorf("view page: %d; want 200 with the query escaped and the heat overlay linked:\n%s", status, body)
	}
}

func TestUploadFolderIsNextToTheIndex(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	o := lib.options(noModel{})
	if _, err := web.New(o); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(lib.db + ".uploads"); err != nil || !fi.IsDir() {
		t.Fatalf("upload folder %s.uploads: %v", lib.db, err)
	}
}

func TestLoopbackHostsOnly(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	o := lib.options(noModel{})
	o.LoopbackHostsOnly = true
	_, base := startServer(t, o)
	for host, want := range map[string]int{"": 200, "localhost:7860": 200, "[::1]:7860": 200, "evil.example:7860": 403, "192.168.1.2": 403} {
		req, _ := http.NewRequest("GET", base+"/api/v1/documents", nil)
		if host != "" {
			req.Host = host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %q: %d; want %d", host, res.StatusCode, want)
		}
	}
}

func TestStatic_NoListing(t *testing.T) {
	lib := newLibrary(t, nil, nil)
	_, base := startServer(t, lib.options(noModel{}))
	for _, p := range []string{"/static/", "/static/nope.js", "/static/../templates/base.html"} {
		if status, body, _ := call(t, "GET", base+p, nil); status != 404 {
			t.Errorf("GET %s: %d %.80s; want 404", p, status, body)
		}
	}
}
