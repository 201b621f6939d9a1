package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/colsmol/colsmol/internal/hub"
	"github.com/spf13/cobra"
)

func newModelPullCmd(g *globalOptions) *cobra.Command {
	var precision, repoType string
	var include []string
	c := &cobra.Command{
		Use:   "pull NAME[:PRECISION]|ORG/REPO[@REV]",
		Short: "Download a model into the Hugging Face cache",
		Long: `Download a model into the Hugging Face cache ($HF_HUB_CACHE, default ~/.cache/huggingface/hub), the
same cache Python's huggingface_hub uses, and print the model folder. Only missing files are downloaded;
interrupted downloads resume. Registry models that need it are converted to ONNX once, into
$HF_HOME/colsmol/converted. Other commands (index, search, ask, serve) use a model the cache already holds
without asking the Hub, and pull it when it is missing; run model pull to update a cached model.

NAME is a registry name, optionally with a precision (smolvlm-256m-instruct:q4 is the same as
smolvlm-256m-instruct --precision q4; --model and --generator accept the same form); any other Hub repository is given as ORG/REPO[@REVISION] and taken whole (or the
files matching --include). The environment is read as huggingface_hub does: HF_ENDPOINT, HF_HOME,
HF_HUB_CACHE, HF_TOKEN (for gated or private repositories) and HF_HUB_OFFLINE.

Registry (NAME, role, precisions):
` + registryText(),
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if repoType != hub.RepoModel && repoType != hub.RepoDataset {
				return usageErrorf("--repo-type must be model or dataset, not %q", repoType)
			}
			var m *hub.Model
			var err error
			if repoType == hub.RepoDataset || len(include) > 0 {
				ref, perr := hub.ParseRef(args[0])
				if perr != nil || ref.Repo == "" {
					return usageErrorf("--include and --repo-type dataset take a Hub repository id ORG/REPO[@REV], not %q", args[0])
				}
				if precision != "" {
					return usageErrorf("--precision applies to registry models, not with --include or --repo-type dataset")
				}
				plan := hub.RepoPlan(repoType, ref.Repo, ref.Revision, include)
				o := hubOptions(g, "colsmol model pull "+args[0])
				if m, err = hub.MaterializeModel(ctx, plan, o, nil); err != nil {
					return fatal(err)
				}
			} else if m, err = resolveModelContext(ctx, g, args[0], "", precision, true); err != nil {
				return err
			}
			return printPulled(c, g, args[0], m)
		},
	}
	f := c.Flags()
	f.StringVar(&precision, "precision", "", "registry models: which weights (smolvlm-*: fp32, fp16, int8, q4, q4f16, uint8, bnb4 — the published ONNX variants; colsmol-*: fp32, int8 — converted locally); default fp32")
	f.StringSliceVar(&include, "include", nil, "only files matching these globs (huggingface_hub allow_patterns; * also matches /), for ORG/REPO")
	f.StringVar(&repoType, "repo-type", hub.RepoModel, "model or dataset (datasets are taken whole or with --include)")
	return c
}

func registryText() string {
	var b strings.Builder
	printRegistry(&b)
	return b.String()
}

type pulledSource struct {
	Repo     string   `json:"repo"`
	Revision string   `json:"revision"`
	Commit   string   `json:"commit"`
	Path     string   `json:"path"`
	Files    []string `json:"files"`
}

type pulledModel struct {
	Name      string         `json:"name"`
	Role      string         `json:"role,omitempty"`
	Precision string         `json:"precision,omitempty"`
	Kind      string         `json:"kind"`
	Path      string         `json:"path"`
	Sources   []pulledSource `json:"sources"`
}

func printPulled(c *cobra.Command, g *globalOptions, arg string, m *hub.Model) error {
	out := pulledModel{Name: arg, Path: m.Dir, Sources: []pulledSource{}}
	if m.Plan != nil {
		out.Name, out.Role, out.Precision, out.Kind = m.Plan.Name, m.Plan.Role, m.Plan.Precision, m.Plan.Kind
		for i, r := range m.Sources {
			s := m.Plan.Sources[i]
			out.Sources = append(out.Sources, pulledSource{Repo: s.Repo, Revision: s.Revision, Commit: r.Commit, Path: r.Dir, Files: r.Files})
		}
	}
	w := c.OutOrStdout()
	if g.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if !g.quiet {
		for _, s := range out.Sources {
			fmt.Fprintf(c.ErrOrStderr(), "colsmol: %s@%s is commit %s (%d files)\n", s.Repo, s.Revision, s.Commit, len(s.Files))
		}
	}
	_, err := fmt.Fprintln(w, m.Dir)
	return err
}

type modelList struct {
	CacheDir   string           `json:"cache_dir"`
	ColsmolDir string           `json:"colsmol_dir"`
	Repos      []hub.CachedRepo `json:"repos"`
	Local      []hub.LocalModel `json:"local"`
}

func newModelLsCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List cached models",
		Long: `List the repositories in the Hugging Face cache (models and datasets, also those downloaded by Python's
huggingface_hub): revisions, commits, files and size on disk; then the folders colsmol converted or linked
under $HF_HOME/colsmol. --json prints one JSON document.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			o := hub.FromEnv()
			repos, err := hub.ListCache(o)
			if err != nil {
				return fatalf("read the Hugging Face cache %s: %v", o.CacheDir, err)
			}
			local, err := hub.ListLocal(o)
			if err != nil {
				return fatalf("read %s: %v", hub.ColsmolDir(o), err)
			}
			list := modelList{CacheDir: o.CacheDir, ColsmolDir: hub.ColsmolDir(o), Repos: repos, Local: local}
			if list.Repos == nil {
				list.Repos = []hub.CachedRepo{}
			}
			if list.Local == nil {
				list.Local = []hub.LocalModel{}
			}
			w := c.OutOrStdout()
			if g.json {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			return printModelList(c, list)
		},
	}
}

func printModelList(c *cobra.Command, l modelList) error {
	w := c.OutOrStdout()
	if len(l.Repos) == 0 && len(l.Local) == 0 {
		fmt.Fprintf(w, "no models in %s; get one with: colsmol model pull %s\n", l.CacheDir, hub.Names()[0])
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "REPO\tTYPE\tREFS\tCOMMIT\tFILES\tSIZE\tREGISTRY\n")
	for _, r := range l.Repos {
		reg := strings.Join(r.Registry, ",")
		if len(r.Snapshots) == 0 {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t0\t%s\t%s\n", r.Repo, r.Type, hub.HumanSize(r.SizeBytes), reg)
		}
		for i, s := range r.Snapshots {
			size := ""
			if i == 0 {
				size = hub.HumanSize(r.SizeBytes)
			}
			refs := strings.Join(s.Refs, ",")
			if refs == "" {
				refs = "-"
			}
			commit := s.Commit
			if len(commit) > 12 {
				commit = commit[:12]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Repo, r.Type, refs, commit, len(s.Files), size, reg)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "(cache: %s)\n", l.CacheDir)
	if len(l.Local) > 0 {
		fmt.Fprintf(w, "\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "COLSMOL FOLDER\tKIND\tFILES\tSIZE\tMODIFIED\tSTATE\n")
		for _, m := range l.Local {
			state := "ready"
			if !m.Complete {
				state = "incomplete"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", m.Name, m.Kind, m.Files, hub.HumanSize(m.SizeBytes), m.Modified.Format(time.DateTime), state)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "(under %s)\n", l.ColsmolDir)
	}
	return nil
}
