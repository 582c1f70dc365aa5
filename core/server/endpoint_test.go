package server

import (
	"errors"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	for _, tt := range []struct {
		addr        string
		allowRemote bool
		notLoopback bool
		bad         bool
	}{
		{"127.0.0.1:0", false, false, false},
		{"[::1]:8080", false, false, false},
		{"localhost:9", false, false, false},
		{"127.8.9.10:1", false, false, false},
		{"0.0.0.0:0", false, true, false},
		{"[::]:0", false, true, false},
		{"192.0.2.1:80", false, true, false},
		{":8080", false, true, false},
		{"0.0.0.0:0", true, false, false},
		{"no-port", false, false, true},
	} {
		err := CheckAddress(tt.addr, tt.allowRemote)
		switch {
		case tt.notLoopback && !errors.Is(err, ErrNotLoopback):
			t.Errorf("CheckAddress(%q, %v) = %v, want ErrNotLoopback", tt.addr, tt.allowRemote, err)
		case tt.bad && (err == nil || errors.Is(err, ErrNotLoopback)):
			t.Errorf("CheckAddress(%q) = %v, want a malformed-address error", tt.addr, err)
		case !tt.notLoopback && !tt.bad && err != nil:
			t.Errorf("CheckAddress(%q, %v) = %v, want nil", tt.addr, tt.allowRemote, err)
		}
	}
}
