package backend

import (
	"errors"
	"fmt"
	"testing"

	"github.com/colsmol/colsmol/generate"
	"github.com/colsmol/colsmol/index"
	"github.com/colsmol/colsmol/web"
)

func TestMapErr(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error // the web sentinel, nil for none
	}{
		{"not found", fmt.Errorf("page 9: %w", index.ErrNotFound), web.ErrNotFound},
		{"bad input", fmt.Errorf("query: %w", index.ErrBadInput), web.ErrBadInput},
		{"prompt too long", fmt.Errorf("ask: %w", generate.ErrContextTooLong), web.ErrBadInput},
		{"other", errors.New("disk on fire"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mapErr(tt.err)
			if got.Error() != tt.err.Error() {
				t.Errorf("message %q, want %q kept", got.Error(), tt.err.Error())
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("the original error is no longer in the chain")
			}
			for _, s := range []error{web.ErrNotFound, web.ErrBadInput} {
				if errors.Is(got, s) != (s == tt.want) {
					t.Errorf("errors.Is(%v) = %v, want %v", s, errors.Is(got, s), s == tt.want)
				}
			}
		})
	}
}
