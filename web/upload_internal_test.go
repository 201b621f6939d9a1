package web

import (
	"strings"
	"testing"
)

func TestUploadName(t *testing.T) {
	tests := map[string]struct {
		filename string
		want     string // "" means refused
	}{
		"plain":               {"report.pdf", "report.pdf"},
		"spaces and brackets": {"Q3 report (final).pdf", "Q3 report (final).pdf"},
		"unicode":             {"Été à Zürich.png", "Été à Zürich.png"},
		"odd characters":      {"a<b>|c?.pdf", "a_b__c_.pdf"},
		"leading dots":        {"..hidden.pdf", "hidden.pdf"},
		"parent folders":      {"../../etc/passwd.pdf", ""},
		"absolute":            {"/etc/passwd.pdf", ""},
		"windows folders":     {`..\..\boot.pdf`, ""},
		"dot dot":             {"..", ""},
		"only dots":           {"...", ""},
		"empty":               {"", ""},
		"only symbols":        {"???", ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			cd := `form-data; name="file"; filename="` + strings.ReplaceAll(tt.filename, `\`, `\\`) + `"`
			got, err := uploadName(cd)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("uploadName(%q) = %q; want an error", tt.filename, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("uploadName(%q) = %q, %v; want %q", tt.filename, got, err, tt.want)
			}
		})
	}
}

func TestSanitizeName_CapsLength(t *testing.T) {
	got := sanitizeName(strings.Repeat("é", 200) + ".pdf")
	if len(got) > maxNameBytes || !strings.HasSuffix(got, ".pdf") || !strings.HasPrefix(got, "éé") {
		t.Fatalf("got %q (%d bytes); want at most %d bytes ending in .pdf", got, len(got), maxNameBytes)
	}
}

func TestCheckBind(t *testing.T) {
	tests := map[string]struct {
		addr, token string
		insecure    bool
		ok          bool
	}{
		"loopback v4":       {"127.0.0.1:7860", "", false, true},
		"loopback v6":       {"[::1]:7860", "", false, true},
		"localhost":         {"localhost:0", "", false, true},
		"all interfaces":    {"0.0.0.0:7860", "", false, false},
		"empty host":        {":7860", "", false, false},
		"lan with token":    {"192.168.1.5:7860", "s3cret", false, true},
		"all with insecure": {"0.0.0.0:7860", "", true, true},
		"not an address":    {"7860", "", false, false},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := CheckBind(tt.addr, tt.token, tt.insecure)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckBind(%q, %q, %v) = %v; want ok=%v", tt.addr, tt.token, tt.insecure, err, tt.ok)
			}
		})
	}
}
