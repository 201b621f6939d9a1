package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Roles a model plays.
const (
	RoleRetriever = "retriever" // --model: page and query embeddings
	RoleGenerator = "generator" // --generator: answers
)

// Plan kinds.
const (
	KindSnapshot = "snapshot" // the folder is the first source's snapshot, as it is
	KindLinks    = "links"    // a folder of symlinks into the sources' snapshots, with the plain file names
	KindConvert  = "convert"  // the folder is built from the base and adapter snapshots by a converter
)

// Entry is one name of the registry.
type Entry struct {
	Name        string
	Role        string
	Description string
	// Precisions are the accepted --precision values; the first is the default.
	Precisions []string
	// Repo is the repository that stands for the entry when a user names it as org/name.
	Repo string
	plan func(e Entry, precision, revision string) *Plan
}

// Source is one repository snapshot a plan needs.
type Source struct {
	RepoType string // RepoModel or RepoDataset
	Request
}

// Plan says how to obtain a model folder: which snapshots to pull, and what to make of them.
type Plan struct {
	Name      string // registry name, or the repo id for plain repositories
	Role      string // RoleRetriever, RoleGenerator, or "" when unknown
	Precision string
	Kind      string   // KindSnapshot, KindLinks or KindConvert
	Sources   []Source // KindConvert: Sources[0] is the base, Sources[1] the adapter (optional)
	// links maps each file of a KindLinks folder (slash path) to a source and a file in its snapshot.
	links func(res []*Result) map[string]string
}

// ConvertFunc builds a model folder at out from a base snapshot folder and an optional adapter snapshot
// folder (PEFT LoRA) with the given precision. colsmol passes modelbuild.Convert; this package stays free of it.
type ConvertFunc func(ctx context.Context, base, adapter, out, precision string) error

// smolvlmConfigs are the files of a SmolVLM-style model folder besides the ONNX graphs.
var (
	smolvlmConfigs  = []string{"config.json", "preprocessor_config.json", "processor_config.json", "tokenizer.json", "tokenizer_config.json"}
	smolvlmOptional = []string{"generation_config.json", "chat_template.json", "chat_template.jinja", "special_tokens_map.json", "added_tokens.json"}
	smolvlmGraphs   = []string{"vision_encoder", "embed_tokens", "decoder_model_merged"}
	// variantSuffix is the file-name suffix of each published precision of the official SmolVLM ONNX export.
	variantSuffix = map[string]string{"fp32": "", "fp16": "_fp16", "int8": "_int8", "q4": "_q4", "q4f16": "_q4f16", "uint8": "_uint8", "bnb4": "_bnb4"}
)

var registry = []Entry{
	{
		Name: "colsmol-256m", Role: RoleRetriever, Repo: "vidore/colSmol-256M",
		Description: "ColSmolVLM retriever, 256M: the official vidore/colSmol-256M adapter on vidore/ColSmolVLM-Instruct-256M-base, converted to ONNX locally on first use",
		Precisions:  []string{"fp32", "int8"},
		plan:        convertPlan("vidore/ColSmolVLM-Instruct-256M-base"),
	},
	{
		Name: "colsmol-500m", Role: RoleRetriever, Repo: "vidore/colSmol-500M",
		Description: "ColSmolVLM retriever, 500M: the official vidore/colSmol-500M adapter on vidore/ColSmolVLM-Instruct-500M-base, converted to ONNX locally on first use",
		Precisions:  []string{"fp32", "int8"},
		plan:        convertPlan("vidore/ColSmolVLM-Instruct-500M-base"),
	},
	{
		Name: "colsmol-256m-onnx", Role: RoleRetriever, Repo: "guyettinger/colSmol-256M-dynamic-onnx",
		Description: "ColSmolVLM retriever, 256M, as the public single-graph ONNX re-export (third party, no conversion; processor files from vidore/ColSmolVLM-Instruct-256M-base)",
		Precisions:  []string{"fp32"},
		plan:        singleGraphPlan("vidore/ColSmolVLM-Instruct-256M-base"),
	},
	{
		Name: "smolvlm-256m-instruct", Role: RoleGenerator, Repo: "HuggingFaceTB/SmolVLM-256M-Instruct",
		Description: "SmolVLM-256M-Instruct answer model: the official ONNX export",
		Precisions:  []string{"fp32", "fp16", "int8", "q4", "q4f16", "uint8", "bnb4"},
		plan:        smolvlmPlan,
	},
	{
		Name: "smolvlm-500m-instruct", Role: RoleGenerator, Repo: "HuggingFaceTB/SmolVLM-500M-Instruct",
		Description: "SmolVLM-500M-Instruct answer model: the official ONNX export",
		Precisions:  []string{"fp32", "fp16", "int8", "q4", "q4f16", "uint8", "bnb4"},
		plan:        smolvlmPlan,
	},
}

// Registry returns the registry's entries in a stable order.
func Registry() []Entry { return append([]Entry(nil), registry...) }

// Names returns the registry's names.
func Names() []string {
	var out []string
	for _, e := range registry {
		out = append(out, e.Name)
	}
	return out
}

// Lookup finds a registry entry by name (case-insensitive).
func Lookup(name string) (Entry, bool) {
	for _, e := range registry {
		if strings.EqualFold(e.Name, name) {
			return e, true
		}
	}
	return Entry{}, false
}

// LookupRepo finds the registry entry that a repository id stands for (case-insensitive).
func LookupRepo(repo string) (Entry, bool) {
	for _, e := range registry {
		if strings.EqualFold(e.Repo, repo) {
			return e, true
		}
	}
	return Entry{}, false
}

// Plan returns how to obtain the entry's folder at a precision ("" = the default) and a revision of its
// main repository ("" = main).
func (e Entry) Plan(precision, revision string) (*Plan, error) {
	if precision == "" {
		precision = e.Precisions[0]
	}
	precision = strings.ToLower(precision)
	ok := false
	for _, p := range e.Precisions {
		ok = ok || p == precision
	}
	if !ok {
		return nil, fmt.Errorf("%s has no precision %q; choose one of %s", e.Name, precision, strings.Join(e.Precisions, ", "))
	}
	if revision == "" {
		revision = "main"
	}
	return e.plan(e, precision, revision), nil
}

func convertPlan(base string) func(Entry, string, string) *Plan {
	return func(e Entry, precision, revision string) *Plan {
		return &Plan{
			Name: e.Name, Role: e.Role, Precision: precision, Kind: KindConvert,
			Sources: []Source{
				{RepoModel, Request{Repo: base, Revision: "main",
					Files:    []string{"config.json", "model.safetensors", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"},
					Optional: append([]string{"processor_config.json", "vocab.json", "merges.txt"}, smolvlmOptional...)}},
				{RepoModel, Request{Repo: e.Repo, Revision: revision, Files: []string{"adapter_config.json", "adapter_model.safetensors"}}},
			},
		}
	}
}

func singleGraphPlan(base string) func(Entry, string, string) *Plan {
	return func(e Entry, precision, revision string) *Plan {
		return &Plan{
			Name: e.Name, Role: e.Role, Precision: precision, Kind: KindLinks,
			Sources: []Source{
				{RepoModel, Request{Repo: e.Repo, Revision: revision, Files: []string{"model.onnx"}, Optional: []string{"model.onnx_data"}}},
				{RepoModel, Request{Repo: base, Revision: "main", Files: []string{"config.json", "preprocessor_config.json", "tokenizer.json", "tokenizer_config.json"},
					Optional: append([]string{"processor_config.json"}, smolvlmOptional...)}},
			},
			links: func(res []*Result) map[string]string {
				m := map[string]string{}
				for _, f := range res[1].Files {
					m[f] = filepath.Join(res[1].Dir, f)
				}
				for _, f := range res[0].Files { // model.onnx and its external data stay side by side
					m["onnx/"+f] = filepath.Join(res[0].Dir, f)
				}
				return m
			},
		}
	}
}

func smolvlmPlan(e Entry, precision, revision string) *Plan {
	sfx := variantSuffix[precision]
	req := Request{Repo: e.Repo, Revision: revision, Files: append([]string(nil), smolvlmConfigs...), Optional: smolvlmOptional}
	for _, g := range smolvlmGraphs {
		req.Files = append(req.Files, "onnx/"+g+sfx+".onnx")
	}
	p := &Plan{Name: e.Name, Role: e.Role, Precision: precision, Kind: KindSnapshot, Sources: []Source{{RepoModel, req}}}
	if sfx != "" {
		// The runtime opens onnx/vision_encoder.onnx etc.: give the variant files the plain names.
		p.Kind = KindLinks
		p.links = func(res []*Result) map[string]string {
			m := map[string]string{}
			for _, f := range res[0].Files {
				dst := f
				for _, g := range smolvlmGraphs {
					if f == "onnx/"+g+sfx+".onnx" {
						dst = "onnx/" + g + ".onnx"
					}
				}
				m[dst] = filepath.Join(res[0].Dir, f)
			}
			return m
		}
	}
	return p
}

// RepoPlan is the plan for a repository that is not in the registry: its whole snapshot, or the files
// matching patterns when some are given.
func RepoPlan(repoType, repo, revision string, patterns []string) *Plan {
	if revision == "" {
		revision = "main"
	}
	if repoType == "" {
		repoType = RepoModel
	}
	return &Plan{Name: repo, Kind: KindSnapshot, Sources: []Source{{repoType, Request{Repo: repo, Revision: revision, Patterns: patterns}}}}
}

// Ref is a parsed model name: a registry name with an optional precision ("smolvlm-256m-instruct:q4"), or a
// repository id with an optional revision ("org/name@v1.0").
type Ref struct {
	Name, Precision string // registry form
	Repo, Revision  string // repository form
}

var nameWithPrecision = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(?::([A-Za-z0-9]+))?$`)

// ParseRef reads NAME[:PRECISION] or ORG/REPO[@REVISION]. A bare name must be in the registry.
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		repo, rev, _ := strings.Cut(s, "@")
		if !ValidRepoID(repo) || strings.Count(repo, "/") != 1 || strings.Contains(rev, "..") {
			return Ref{}, fmt.Errorf("%q is neither a model folder, a registry name (%s) nor a Hub repository id (org/name[@revision])", s, strings.Join(Names(), ", "))
		}
		return Ref{Repo: repo, Revision: rev}, nil
	}
	m := nameWithPrecision.FindStringSubmatch(s)
	if m != nil {
		if _, ok := Lookup(m[1]); ok {
			return Ref{Name: strings.ToLower(m[1]), Precision: strings.ToLower(m[2])}, nil
		}
	}
	return Ref{}, fmt.Errorf("%q is neither a model folder nor a registry name; known names: %s (or a Hub repository id org/name[@revision], or a local folder)", s, strings.Join(Names(), ", "))
}

// PlanFor turns a reference into a plan: registry names and repositories that stand for a registry entry
// use the entry's plan (precision: the entry's default when ""); other repositories are taken whole.
func PlanFor(r Ref, precision string) (*Plan, error) {
	if r.Precision != "" {
		if precision != "" && !strings.EqualFold(precision, r.Precision) {
			return nil, fmt.Errorf("precision %s in the name and %s in --precision disagree", r.Precision, precision)
		}
		precision = r.Precision
	}
	if r.Name != "" {
		e, _ := Lookup(r.Name)
		return e.Plan(precision, "")
	}
	if e, ok := LookupRepo(r.Repo); ok {
		return e.Plan(precision, r.Revision)
	}
	if precision != "" && precision != "fp32" {
		return nil, fmt.Errorf("--precision %s applies to registry models only (%s); %s is taken as it is", precision, strings.Join(Names(), ", "), r.Repo)
	}
	return RepoPlan(RepoModel, r.Repo, r.Revision, nil), nil
}

// Model is a materialized plan: the folder to hand to the runtime and the snapshots it came from.
type Model struct {
	Dir     string
	Plan    *Plan
	Sources []*Result // nil when an offline call found a converted folder without asking for its sources
}

// Materialize pulls what the plan needs (only what is missing from the cache) and returns the model folder.
// KindConvert plans call convert once and keep the result under $HF_HOME/colsmol/converted; KindLinks plans
// build a folder of symlinks under $HF_HOME/colsmol/models.
func Materialize(ctx context.Context, p *Plan, o Options, convert ConvertFunc) (string, error) {
	m, err := MaterializeModel(ctx, p, o, convert)
	if err != nil {
		return "", err
	}
	return m.Dir, nil
}

// MaterializeModel is Materialize, returning the snapshots too.
func MaterializeModel(ctx context.Context, p *Plan, o Options, convert ConvertFunc) (*Model, error) {
	o.fill()
	if p.Kind == KindConvert && o.Offline {
		// Offline, a folder converted before needs nothing else, not even the snapshots it came from.
		if dir := convertedDir(&o, p, nil); dir != "" && complete(dir) {
			return &Model{Dir: dir, Plan: p}, nil
		}
	}
	res := make([]*Result, len(p.Sources))
	var missing []*NotCachedError
	for i, s := range p.Sources {
		so := o
		so.RepoType = s.RepoType
		r, err := Pull(ctx, s.Request, so)
		var nc *NotCachedError
		if errors.As(err, &nc) {
			missing = append(missing, nc) // go on: one message names everything missing
			continue
		}
		if err != nil {
			return nil, err
		}
		res[i] = r
	}
	switch len(missing) {
	case 0:
	case 1:
		return nil, missing[0]
	default:
		return nil, &MissingError{Parts: missing}
	}
	m := &Model{Plan: p, Sources: res}
	var err error
	switch p.Kind {
	case KindSnapshot:
		m.Dir = res[0].Dir
	case KindLinks:
		m.Dir, err = linkFolder(&o, p, res)
	case KindConvert:
		if convert == nil {
			return nil, fmt.Errorf("%s must be converted to ONNX, and no converter was given", p.Name)
		}
		m.Dir, err = convertFolder(ctx, &o, p, res, convert)
	default:
		err = fmt.Errorf("unknown plan kind %q", p.Kind)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// completeMarker is written last into converted and linked folders.
const completeMarker = ".colsmol-complete"

func complete(dir string) bool { return fileExists(filepath.Join(dir, completeMarker)) }

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// ColsmolDir is where colsmol keeps its own model folders: $HF_HOME/colsmol.
func ColsmolDir(o Options) string {
	o.fill()
	return filepath.Join(o.Home, "colsmol")
}

// convertedDir names the converted folder after the name, precision and source commits. With res nil the
// commits come from the cache's refs; "" when one is unknown.
func convertedDir(o *Options, p *Plan, res []*Result) string {
	parts := []string{p.Name, p.Precision}
	for i, s := range p.Sources {
		commit := ""
		if res != nil {
			commit = res[i].Commit
		} else {
			so := *o
			so.RepoType = s.RepoType
			commit = newCacheRepo(&so, s.Repo).commitFor(s.Revision)
		}
		if commit == "" {
			return ""
		}
		parts = append(parts, short(commit))
	}
	return filepath.Join(o.Home, "colsmol", "converted", strings.Join(parts, "-"))
}

func convertFolder(ctx context.Context, o *Options, p *Plan, res []*Result, convert ConvertFunc) (string, error) {
	dir := convertedDir(o, p, res)
	if complete(dir) {
		return dir, nil
	}
	lk, err := lockFile(ctx, filepath.Join(filepath.Dir(dir), ".locks", filepath.Base(dir)+".lock"), func() {
		if o.Logf != nil {
			o.Logf("waiting for another conversion of %s to finish", p.Name)
		}
	})
	if err != nil {
		return "", err
	}
	defer lk.unlock()
	if complete(dir) {
		return dir, nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dir, os.Getpid())
	_ = os.RemoveAll(tmp)
	_ = os.RemoveAll(dir) // an unfinished folder from an interrupted run
	adapter := ""
	if len(res) > 1 {
		adapter = res[1].Dir
	}
	if o.Logf != nil {
		o.Logf("converting %s to ONNX (%s) into %s; this happens once", p.Name, p.Precision, dir)
	}
	if err := convert(ctx, res[0].Dir, adapter, tmp, p.Precision); err != nil {
		_ = os.RemoveAll(tmp)
		return "", fmt.Errorf("convert %s to ONNX: %w", p.Name, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, completeMarker), []byte(strings.Join(sourceLines(p, res), "\n")+"\n"), 0o644); err != nil {
		_ = os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}

func sourceLines(p *Plan, res []*Result) []string {
	lines := []string{"name " + p.Name, "precision " + p.Precision}
	for i, s := range p.Sources {
		lines = append(lines, fmt.Sprintf("source %s %s %s", s.Repo, s.Revision, res[i].Commit))
	}
	return lines
}

func linkFolder(o *Options, p *Plan, res []*Result) (string, error) {
	var commits []string
	for _, r := range res {
		commits = append(commits, short(r.Commit))
	}
	dir := filepath.Join(o.Home, "colsmol", "models", p.Name+"-"+p.Precision+"-"+strings.Join(commits, "-"))
	links := p.links(res)
	if complete(dir) && linksIntact(dir, links) {
		return dir, nil
	}
	lk, err := lockFile(context.Background(), filepath.Join(filepath.Dir(dir), ".locks", filepath.Base(dir)+".lock"), nil)
	if err != nil {
		return "", err
	}
	defer lk.unlock()
	if complete(dir) && linksIntact(dir, links) { // made by another process while we waited
		return dir, nil
	}
	tmp := fmt.Sprintf("%s.tmp-%d", dir, os.Getpid())
	_ = os.RemoveAll(tmp)
	names := make([]string, 0, len(links))
	for n := range links {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		dst := filepath.Join(tmp, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return "", err
		}
		if err := os.Symlink(links[n], dst); err != nil {
			_ = os.RemoveAll(tmp)
			return "", fmt.Errorf("link %s: %w", dst, err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, completeMarker), []byte(strings.Join(sourceLines(p, res), "\n")+"\n"), 0o644); err != nil {
		_ = os.RemoveAll(tmp)
		return "", err
	}
	_ = os.RemoveAll(dir) // a broken folder (its snapshots were deleted or moved)
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return "", err
	}
	return dir, nil
}

func linksIntact(dir string, links map[string]string) bool {
	for n, target := range links {
		got, err := os.Readlink(filepath.Join(dir, filepath.FromSlash(n)))
		if err != nil || got != target {
			return false
		}
		if _, err := os.Stat(target); err != nil {
			return false
		}
	}
	return true
}

// IsNotCached reports whether err says that files are missing from the cache while offline.
func IsNotCached(err error) bool { return errors.Is(err, ErrNotCached) }
