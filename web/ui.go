package web

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"
)

// assets holds the UI: templates and static files, compiled into the binary (no CDN).
//
//go:embed templates/*.html static/*
var assets embed.FS

type uiTemplates struct {
	home, view *template.Template
}

func loadTemplates() (*uiTemplates, error) {
	funcs := template.FuncMap{
		"name":  displayName,
		"score": func(f float32) string { return strconv.FormatFloat(float64(f), 'f', 2, 32) },
		"date":  func(d DocumentInfo) string { return d.IndexedAt.Local().Format("2006-01-02 15:04") },
	}
	parse := func(page string) (*template.Template, error) {
		return template.New("base.html").Funcs(funcs).ParseFS(assets, "templates/base.html", "templates/"+page)
	}
	home, err := parse("home.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	view, err := parse("view.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse templates: %w", err)
	}
	return &uiTemplates{home: home, view: view}, nil
}

// uiResult is a search result as the home page shows it.
type uiResult struct {
	SearchResult
	Name    string
	ViewURL string
}

// homePage is the data of templates/home.html.
type homePage struct {
	Query       string
	K           int
	Searched    bool
	Results     []uiResult
	Error       string
	Documents   []DocumentInfo
	CanAsk      bool
	Generator   string
	CanUpload   bool
	MaxUploadMB int64
	Accept      string
}

// handleHome renders the search page; with ?q= it runs the search on the server, so it works without
// JavaScript.
func (s *Server) handleHome(c *gin.Context) {
	p := homePage{K: DefaultK, CanAsk: s.opt.Answerer != nil, Generator: s.opt.GeneratorName,
		CanUpload: s.opt.Indexer != nil, MaxUploadMB: s.opt.MaxUploadBytes >> 20}
	for i, e := range UploadExtensions {
		if i > 0 {
			p.Accept += ","
		}
		p.Accept += e
	}
	status := http.StatusOK
	if q, ok := c.GetQuery("q"); ok {
		p.Query, p.Searched = q, true
		req := SearchRequest{Query: q}
		if ks := c.Query("k"); ks != "" {
			k, err := strconv.Atoi(ks)
			if err != nil {
				k = -1
			}
			req.K = &k
		}
		res, err := s.search(c.Request.Context(), req)
		if err != nil {
			status, p.Error = errorStatus("search", err)
			if status == http.StatusInternalServerError {
				s.log.Error("search", "err", err)
			}
		} else {
			p.K = res.K
			for _, r := range res.Results {
				p.Results = append(p.Results, uiResult{SearchResult: r, Name: displayName(r.Path),
					ViewURL: fmt.Sprintf("/view/%s/%d?q=%s", url.PathEscape(r.DocID), r.Page, url.QueryEscape(res.Query))})
			}
		}
	}
	docs, err := s.documents()
	if err != nil {
		s.log.Error("list documents", "err", err)
	}
	p.Documents = docs
	s.render(c, status, s.ui.home, p)
}

// viewPage is the data of templates/view.html.
type viewPage struct {
	DocID, Name, Query string
	Page               int
	ImageURL, HeatURL  string
	BackURL            string
}

// handleView shows one page large, with the similarity map for ?q= drawn over it as an image (no JavaScript
// needed; the script on the home page draws the same map on a canvas).
func (s *Server) handleView(c *gin.Context) {
	id, page, ok := pageParam(c)
	if !ok {
		return
	}
	name := ""
	docs, err := s.opt.Store.Documents()
	if err != nil {
		s.fail(c, "list documents", err)
		return
	}
	for _, d := range docs {
		if d.ID == id {
			name = displayName(d.Path)
		}
	}
	if name == "" || page > docPages(docs, id) {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("no such page; go back to / and search again\n"))
		return
	}
	q := c.Query("q")
	v := viewPage{DocID: id, Name: name, Query: q, Page: page, ImageURL: pageURL(id, page, "image"), BackURL: "/"}
	if q != "" {
		v.HeatURL = pageURL(id, page, "simmap") + "?format=png&q=" + url.QueryEscape(q)
		v.BackURL = "/?q=" + url.QueryEscape(q)
	}
	s.render(c, http.StatusOK, s.ui.view, v)
}

func docPages(docs []Document, id string) int {
	for _, d := range docs {
		if d.ID == id {
			return d.Pages
		}
	}
	return 0
}

func (s *Server) render(c *gin.Context, status int, t *template.Template, data any) {
	c.Header("Content-Type", "text/html; charset=utf-8")
	c.Status(status)
	if err := t.Execute(c.Writer, data); err != nil {
		s.log.Error("render page", "err", err)
	}
}
