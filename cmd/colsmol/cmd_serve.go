package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/indexer"
	"github.com/colsmol/colsmol/ingest"
	"github.com/colsmol/colsmol/web"
	"github.com/colsmol/colsmol/web/backend"
)

// serveFlags are the flags of colsmol serve.
type serveFlags struct {
	addr        string
	token       string
	insecure    bool
	maxUploadMB int64
	uploadDir   string
	noAnswers   bool
	maxNew      int
}

func newServeCmd(g *globalOptions) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the REST API and the search web UI",
		Long: `Serve the REST API (see /api/v1/openapi.json) and the web UI on --addr.

The server binds 127.0.0.1 by default. Another address needs --token (clients send it as
"Authorization: Bearer TOKEN"; a browser opens /?token=TOKEN once and keeps a cookie) or --insecure.
Uploaded files are saved in --upload-dir (default: the index path + ".uploads") and indexed in the
background while searches go on. Answers stream from the --generator model; when it cannot be loaded
the server runs without answers (or pass --no-answers).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runServe(c, g, f)
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:7860", "address to listen on (HOST:PORT)")
	fl.StringVar(&f.token, "token", os.Getenv("COLSMOL_TOKEN"), "require this bearer token on every request but /healthz (env COLSMOL_TOKEN)")
	fl.BoolVar(&f.insecure, "insecure", false, "allow a non-loopback --addr without --token")
	fl.Int64Var(&f.maxUploadMB, "max-upload-mb", web.DefaultMaxUploadBytes>>20, "largest upload request, in MB")
	fl.StringVar(&f.uploadDir, "upload-dir", "", "folder for uploaded files (default: the --db path + \".uploads\")")
	fl.BoolVar(&f.noAnswers, "no-answers", false, "do not load the answer model; /api/v1/ask answers 503")
	fl.IntVar(&f.maxNew, "max-new-tokens", 256, "most tokens per answer")
	return c
}

func runServe(c *cobra.Command, g *globalOptions, f serveFlags) error {
	if err := web.CheckBind(f.addr, f.token, f.insecure); err != nil {
		return usageErrorf("%v", err)
	}
	if f.maxUploadMB < 1 {
		return usageErrorf("--max-upload-mb must be at least 1")
	}
	if f.uploadDir == "" {
		f.uploadDir = g.db + ".uploads"
	}
	log := serveLogger(g)
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if dir := filepath.Dir(g.db); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fatalf("create the folder of --db %s: %v", g.db, err)
		}
	}
	st, err := index.Open(g.db, index.Options{})
	if err != nil {
		if errors.Is(err, index.ErrLocked) {
			return fatalf("%v: stop the other colsmol process using %s (an index run or another server) and start again", err, g.db)
		}
		return fatal(err)
	}
	defer st.Close()

	em, _, err := openEmbedder(g)
	if err != nil {
		return err
	}
	defer em.Close()
	r, err := ingest.NewRendererWithOptions(ingest.RendererOptions{Instances: 1})
	if err != nil {
		return fatal(err)
	}
	defer r.Close()

	o := web.Options{
		Store:          backend.Store{St: st},
		Embedder:       em,
		Indexer:        backend.Indexer{Store: st, Embedder: em, Renderer: r, Options: indexer.Options{Workers: 1}},
		UploadDir:      f.uploadDir,
		MaxUploadBytes: f.maxUploadMB << 20,
		Token:          f.token,
		Logger:         log,
		// Without a token, a loopback server answers only to loopback names (DNS rebinding).
		LoopbackHostsOnly: isLoopbackAddr(f.addr),
	}
	if gen, name, err := openGenerator(c, g, f); err != nil {
		return err
	} else if gen != nil {
		defer gen.Close()
		o.Answerer = backend.Answerer{Store: st, Embedder: em, Generator: gen, Params: generate.Params{MaxNewTokens: f.maxNew}}
		o.GeneratorName = name
	}
	srv, err := web.New(o)
	if err != nil {
		return fatal(err)
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fatalf("listen on %s: %v; pick another --addr", f.addr, err)
	}
	url := "http://" + ln.Addr().String() + "/"
	if f.token != "" {
		url += "?token=" + f.token
	}
	if !g.quiet {
		fmt.Fprintf(os.Stderr, "colsmol: serving %s (index %s, uploads in %s); press Ctrl-C to stop\n", url, g.db, f.uploadDir)
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return fatal(err)
	}
	return nil
}

// openGenerator loads the answer model. A --generator given on the command line or in COLSMOL_GENERATOR must
// load; the default one is optional, and without it the server runs without answers.
func openGenerator(c *cobra.Command, g *globalOptions, f serveFlags) (*generate.Generator, string, error) {
	if f.noAnswers {
		return nil, "", nil
	}
	explicit := os.Getenv("COLSMOL_GENERATOR") != ""
	if fl := c.Flag("generator"); fl != nil && fl.Changed {
		explicit = true
	}
	dir, err := resolveModel(g, g.generator, roleGenerator)
	if err == nil {
		var gen *generate.Generator
		if gen, err = generate.Open(dir, generate.Options{Threads: g.threads, Device: g.device}); err == nil {
			return gen, filepath.Base(g.generator), nil
		}
	}
	if explicit {
		return nil, "", fatal(fmt.Errorf("load the answer model %s: %w (or pass --no-answers to serve without answers)", g.generator, err))
	}
	fmt.Fprintf(os.Stderr, "colsmol: answers are off: the answer model %s could not be loaded: %v\n", g.generator, err)
	return nil, "", nil
}

// serveLogger writes the server's log lines to stderr at the level -q and -v ask for.
func serveLogger(g *globalOptions) *slog.Logger {
	level := slog.LevelInfo
	switch {
	case g.quiet:
		level = slog.LevelWarn
	case g.verbose:
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
