package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
)

// Options configure a Server. Zero values mean the defaults given on each field.
type Options struct {
	Store    Store    // required
	Embedder Embedder // required
	Indexer  Indexer  // nil: uploads are refused with 503
	Answerer Answerer // nil: /api/v1/ask answers 503 and the UI hides the answer panel

	// UploadDir receives uploaded files (created when needed). Required when Indexer is set.
	UploadDir string
	// MaxUploadBytes caps the body of one upload request; 0 means DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// Token, when set, is required on every route but /healthz and /static/ (see the package doc).
	Token string
	// LoopbackHostsOnly refuses requests whose Host header is not a loopback name (localhost, 127.0.0.1,
	// [::1]) unless a Token is set, against DNS rebinding; set it when listening on loopback.
	LoopbackHostsOnly bool
	// GeneratorName is shown in the UI next to the answer panel.
	GeneratorName string
	// ReadTimeout, WriteTimeout and IdleTimeout are the http.Server's timeouts for Serve; 0 means the
	// package's constants of the same names.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// Logger receives request errors and job lines; nil means slog.Default().
	Logger *slog.Logger
}

// Limits of the request inputs.
const (
	DefaultMaxUploadBytes = 200 << 20 // 200 MB
	MaxQueryBytes         = 2000      // longest query or question, in bytes
	MaxK                  = 100       // most search results per request
	MaxAskK               = 8         // most pages shown to the generator
	DefaultK              = 5
	DefaultAskK           = 2
)

// Timeouts of the http.Server built by Serve. Long responses (SSE answers, uploads that wait for
// indexing) push their own deadlines forward with http.ResponseController.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 60 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	ShutdownGrace     = 10 * time.Second
)

// Server serves the REST API and the web UI. Create it with New; it is an http.Handler.
type Server struct {
	opt    Options
	log    *slog.Logger
	engine *gin.Engine
	jobs   *jobQueue
	ui     *uiTemplates
	// genLock lets one answer be generated at a time.
	genLock chan struct{}
}

// New builds a Server. Call Close when done to stop the upload worker.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Embedder == nil {
		return nil, errors.New("web: a store and an embedder are required")
	}
	if o.Indexer != nil && o.UploadDir == "" {
		return nil, errors.New("web: uploads need an upload folder")
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.ReadTimeout = cmp.Or(o.ReadTimeout, ReadTimeout)
	o.WriteTimeout = cmp.Or(o.WriteTimeout, WriteTimeout)
	o.IdleTimeout = cmp.Or(o.IdleTimeout, IdleTimeout)
	if o.UploadDir != "" {
		abs, err := filepath.Abs(o.UploadDir)
		if err != nil {
			return nil, fmt.Errorf("web: upload folder: %w", err)
		}
		o.UploadDir = abs
		if err := os.MkdirAll(o.UploadDir, 0o755); err != nil {
			return nil, fmt.Errorf("web: create the upload folder: %w", err)
		}
	}
	ui, err := loadTemplates()
	if err != nil {
		return nil, err
	}
	s := &Server{opt: o, log: o.Logger, ui: ui, genLock: make(chan struct{}, 1)}
	s.jobs = newJobQueue(s)
	s.engine = s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Routes lists the registered routes as "METHOD path" in gin's syntax (for tests and docs).
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

// Close stops the upload worker, cancelling a running indexing job, and waits for it.
func (s *Server) Close() { s.jobs.close() }

// WaitIdle blocks until no upload job is queued or running, or ctx ends.
func (s *Server) WaitIdle(ctx context.Context) error { return s.jobs.waitIdle(ctx) }

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops accepting, lets running
// requests finish for ShutdownGrace, then cancels what is left (streams included) and closes.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	base, cancelBase := context.WithCancel(context.Background())
	defer cancelBase()
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       s.opt.ReadTimeout,
		WriteTimeout:      s.opt.WriteTimeout,
		IdleTimeout:       s.opt.IdleTimeout,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", ShutdownGrace)
	s.jobs.close()
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(sctx)
	if err != nil {
		cancelBase()
		err = srv.Close()
	}
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		return e
	}
	return err
}

// CheckBind refuses to serve a non-loopback address without a token unless insecure is set.
func CheckBind(addr, token string, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w (use HOST:PORT, e.g. 127.0.0.1:7860)", addr, err)
	}
	if isLoopbackHost(host) || token != "" || insecure {
		return nil
	}
	return fmt.Errorf("address %s is reachable from other machines: set --token SECRET (clients send it as a bearer token) or pass --insecure to serve without one", addr)
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
