package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// AskRequest is the body of POST /api/v1/ask.
type AskRequest struct {
	Question string `json:"question"`
	K        *int   `json:"k,omitempty"`
}

// Time limits of one answer: the whole generation, and the gap between two streamed events.
const (
	askTimeout   = 10 * time.Minute
	ssePing      = 15 * time.Second
	noGenerator  = "no answer model is configured on this server; start it with 'colsmol serve --generator NAME|DIR'"
	eventToken   = "token"
	eventDone    = "done"
	eventError   = "error"
	sseMediaType = "text/event-stream"
)

// handleAsk answers a question from the best pages. With "Accept: text/event-stream" it streams server-sent
// events: "token" ({"text"}) for each piece of the answer, then "done" with the answer JSON, or "error"
// ({"error"}). Otherwise it answers the JSON of `colsmol ask --json` once the answer is complete.
func (s *Server) handleAsk(c *gin.Context) {
	var req AskRequest
	if err := bindJSON(c, &req); err != nil {
		abortError(c, http.StatusBadRequest, err.Error())
		return
	}
	q, err := checkText("question", req.Question)
	if err != nil {
		abortError(c, http.StatusBadRequest, err.Error())
		return
	}
	k := DefaultAskK
	if req.K != nil {
		k = *req.K
	}
	if k < 1 || k > MaxAskK {
		abortError(c, http.StatusBadRequest, fmt.Sprintf("k must be from 1 to %d, got %d", MaxAskK, k))
		return
	}
	if s.opt.Answerer == nil {
		abortError(c, http.StatusServiceUnavailable, noGenerator)
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), askTimeout)
	defer cancel()
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetWriteDeadline(time.Now().Add(askTimeout))
	if !strings.Contains(c.GetHeader("Accept"), sseMediaType) {
		ans, err := s.ask(ctx, q, k, nil)
		if err != nil {
			s.fail(c, "answer", err)
			return
		}
		c.JSON(http.StatusOK, ans)
		return
	}
	s.askStream(ctx, c, rc, q, k)
}

// ask runs one generation at a time: two at once would only share the same cores.
func (s *Server) ask(ctx context.Context, q string, k int, onToken func(string) error) (*Answer, error) {
	select {
	case s.genLock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-s.genLock }()
	return s.opt.Answerer.Ask(ctx, q, k, onToken)
}

// sseWriter writes server-sent events from several goroutines.
type sseWriter struct {
	mu      sync.Mutex
	c       *gin.Context
	rc      *http.ResponseController
	timeout time.Duration // each write moves the write deadline this far ahead
}

func (w *sseWriter) send(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.raw(fmt.Sprintf("event: %s\ndata: %s\n\n", event, b))
}

func (w *sseWriter) raw(s string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.timeout))
	if _, err := w.c.Writer.WriteString(s); err != nil {
		return err
	}
	w.c.Writer.Flush()
	return nil
}

func (s *Server) askStream(ctx context.Context, c *gin.Context, rc *http.ResponseController, q string, k int) {
	h := c.Writer.Header()
	h.Set("Content-Type", sseMediaType+"; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	w := &sseWriter{c: c, rc: rc, timeout: s.opt.WriteTimeout}
	if err := w.raw(": answering\n\n"); err != nil {
		return
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // comments keep the connection and any proxy alive while the model reads the pages
		t := time.NewTicker(min(ssePing, s.opt.WriteTimeout/2))
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = w.raw(": ping\n\n")
			}
		}
	}()
	ans, err := s.ask(ctx, q, k, func(text string) error { return w.send(eventToken, map[string]string{"text": text}) })
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("answer", "err", err)
		}
		_ = w.send(eventError, errorBody{Error: publicError("answer", err)})
		return
	}
	_ = w.send(eventDone, ans)
}
