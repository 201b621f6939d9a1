package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/colsmol/colsmol/internal/hub"
	"github.com/colsmol/colsmol/internal/modelbuild"
)

// Roles passed to resolveModel.
const (
	roleRetriever = hub.RoleRetriever // --model
	roleGenerator = hub.RoleGenerator // --generator
)

// resolveModel turns a --model or --generator value into a model folder. An existing folder is used as it
// is. A registry name (NAME or NAME:PRECISION) or a Hub repository (ORG/NAME[@REVISION]) is served from the
// Hugging Face cache when it is complete there (no network), else pulled (and converted to ONNX when the
// registry says so), honouring HF_HUB_OFFLINE. role is roleRetriever or roleGenerator ("" skips the check).
func resolveModel(g *globalOptions, nameOrDir string, role string) (string, error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := resolveModelContext(ctx, g, nameOrDir, role, "", false)
	if err != nil {
		return "", err
	}
	return m.Dir, nil
}

// resolveModelContext is resolveModel with a context and a precision. With refresh, the Hub is asked even
// when the cache already has everything (colsmol model pull).
func resolveModelContext(ctx context.Context, g *globalOptions, nameOrDir, role, precision string, refresh bool) (*hub.Model, error) {
	flag := "--model"
	if role == roleGenerator {
		flag = "--generator"
	}
	s := strings.TrimSpace(nameOrDir)
	if s == "" {
		return nil, usageErrorf("%s is empty: give a registry name (%s) or a model folder", flag, strings.Join(hub.Names(), ", "))
	}
	if p := expandHomeDir(s); !refresh {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return &hub.Model{Dir: p}, nil
		} else if err == nil {
			return nil, usageErrorf("%s %s is a file; give the model folder (the one holding config.json and onnx/)", flag, s)
		}
		if looksLikePath(s) {
			return nil, fatalf("model folder %s does not exist; give an existing folder or a registry name (%s)", s, strings.Join(hub.Names(), ", "))
		}
	}
	ref, err := hub.ParseRef(s)
	if err != nil {
		return nil, usageErrorf("%s: %v", flag, err)
	}
	plan, err := hub.PlanFor(ref, precision)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	if role != "" && plan.Role != "" && plan.Role != role {
		return nil, usageErrorf("%s is a %s model, but %s needs a %s; registry names: %s", s, plan.Role, flag, role, registrySummary())
	}
	hint := "colsmol model pull " + s
	if precision != "" && ref.Precision == "" {
		hint += " --precision " + precision
	}
	o := hubOptions(g, hint)
	convert := func(ctx context.Context, base, adapter, out, precision string) error {
		return modelbuild.Convert(ctx, modelbuild.ConvertOptions{Base: base, Adapter: adapter, Out: out, Precision: precision, Log: o.Logf})
	}
	if !refresh && !o.Offline {
		// Everything cached: no request at all. Otherwise ask the Hub below.
		off := o
		off.Offline = true
		if m, err := hub.MaterializeModel(ctx, plan, off, convert); err == nil {
			return m, nil
		} else if !errors.Is(err, hub.ErrNotCached) {
			return nil, fatal(err)
		}
	}
	m, err := hub.MaterializeModel(ctx, plan, o, convert)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, fatalf("interrupted while getting %s; run the command again to resume", s)
		}
		return nil, fatal(err)
	}
	return m, nil
}

// hubOptions are the Hub settings of the environment (HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN,
// HF_HUB_OFFLINE), with progress bars on a terminal and one log line per downloaded file unless -q.
func hubOptions(g *globalOptions, hint string) hub.Options {
	o := hub.FromEnv()
	o.PullHint = hint
	if !g.quiet {
		o.Progress = os.Stderr
		o.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, "colsmol: "+format+"\n", args...) }
	}
	return o
}

func expandHomeDir(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

// looksLikePath tells a folder the user meant from a name: it starts like a path, or is not a repo id.
func looksLikePath(s string) bool {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") || strings.HasPrefix(s, "~") || strings.Contains(s, string(filepath.Separator)+string(filepath.Separator)) {
		return true
	}
	repo, _, _ := strings.Cut(s, "@")
	return strings.Count(repo, "/") > 1
}

func registrySummary() string {
	var parts []string
	for _, e := range hub.Registry() {
		parts = append(parts, e.Name+" ("+e.Role+")")
	}
	return strings.Join(parts, ", ")
}

// printRegistry writes the registry as a help text section.
func printRegistry(w io.Writer) {
	for _, e := range hub.Registry() {
		fmt.Fprintf(w, "  %-24s %-9s precisions %s\n  %-24s %s\n", e.Name, e.Role, strings.Join(e.Precisions, ","), "", e.Description)
	}
}
