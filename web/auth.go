package web

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// TokenCookie is the cookie that carries the token for the browser UI.
const TokenCookie = "colsmol_token"

// auth enforces Options.Token. A request is let through when it carries the token as
// "Authorization: Bearer TOKEN", as the colsmol_token cookie, or as the query parameter token=TOKEN. A browser
// that opens /?token=TOKEN gets the cookie and is redirected to the same page without the token in the address.
// /healthz and /static/ stay open so that monitors and the login page work.
func (s *Server) auth(c *gin.Context) {
	if s.opt.Token == "" {
		return
	}
	p := c.Request.URL.Path
	if p == "/healthz" || strings.HasPrefix(p, "/static/") {
		return
	}
	if s.tokenOK(bearer(c.Request)) {
		return
	}
	if ck, err := c.Request.Cookie(TokenCookie); err == nil && s.tokenOK(ck.Value) {
		return
	}
	if q := c.Query("token"); q != "" && s.tokenOK(q) {
		if c.Request.Method == http.MethodGet && !strings.HasPrefix(p, apiPrefix) {
			http.SetCookie(c.Writer, &http.Cookie{Name: TokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			u := *c.Request.URL
			v := u.Query()
			v.Del("token")
			u.RawQuery = v.Encode()
			c.Redirect(http.StatusSeeOther, (&url.URL{Path: u.Path, RawQuery: u.RawQuery}).String())
			c.Abort()
		}
		return
	}
	c.Header("WWW-Authenticate", `Bearer realm="colsmol"`)
	if strings.HasPrefix(p, apiPrefix) {
		abortError(c, http.StatusUnauthorized, "this server needs a token: send 'Authorization: Bearer TOKEN' (or open /?token=TOKEN in a browser)")
		return
	}
	c.Data(http.StatusUnauthorized, "text/plain; charset=utf-8", []byte("This colsmol server needs a token: open /?token=TOKEN once in this browser.\n"))
	c.Abort()
}

func (s *Server) tokenOK(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.opt.Token)) == 1
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) > len(p) && strings.EqualFold(h[:len(p)], p) {
		return strings.TrimSpace(h[len(p):])
	}
	return ""
}

// sameOrigin refuses state-changing requests sent by another web site (a page elsewhere posting a form to
// this server on localhost): when a browser sends an Origin header, its host must be this server's host.
func (s *Server) sameOrigin(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return
	}
	o := c.Request.Header.Get("Origin")
	if o == "" {
		return
	}
	u, err := url.Parse(o)
	if err != nil || u.Host != c.Request.Host {
		abortError(c, http.StatusForbidden, "cross-origin request refused: the Origin "+o+" is not this server")
	}
}

// securityHeaders keeps the UI to its own embedded assets and out of frames.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'")
}

// checkHost guards a server that has no token and listens on loopback against DNS rebinding: a page on
// another site whose name was pointed at 127.0.0.1 reaches the server with its own name in the Host header,
// so only loopback names are accepted there.
func (s *Server) checkHost(c *gin.Context) {
	if !s.opt.LoopbackHostsOnly || s.opt.Token != "" {
		return
	}
	host := c.Request.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if !isLoopbackHost(host) {
		abortError(c, http.StatusForbidden, "host "+c.Request.Host+" is not allowed: this server only answers to localhost; use http://127.0.0.1:PORT/, or serve with --token to allow other names")
	}
}
