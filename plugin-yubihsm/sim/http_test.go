package sim

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

func listen(t *testing.T, d *Device) *Server {
	t.Helper()
	srv, err := Listen(d, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

func post(t *testing.T, url string, body []byte) (*http.Response, []byte, error) {
	t.Helper()
	resp, err := http.Post(url+"/connector/api", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestHTTPStatusAndAPI(t *testing.T) {
	d := newDevice(t, func(o *Options) { o.Serial = 42 })
	srv := listen(t, d)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %s does not bind 127.0.0.1", srv.URL)
	}
	resp, err := http.Get(srv.URL + "/connector/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "status=OK\n") || !strings.Contains(string(body), "serial=0000000042\n") {
		t.Fatalf("status page %q", body)
	}
	resp, got, err := post(t, srv.URL, frame(0x01, []byte("ping")))
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, frame(0x81, []byte("ping"))) {
		t.Fatalf("ECHO over HTTP: %v %v %x", resp, err, got)
	}
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/connector/api", http.StatusMethodNotAllowed},
		{http.MethodPost, "/connector/status", http.StatusMethodNotAllowed},
		{http.MethodGet, "/api", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
}

func TestHTTPFaults(t *testing.T) {
	d := newDevice(t)
	srv := listen(t, d)
	echo := frame(0x01, []byte("x"))

	d.Inject(FaultHTTP500)
	resp, _, err := post(t, srv.URL, echo)
	if err != nil || resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("FaultHTTP500: %v, %v", resp, err)
	}
	if n := d.Stats().Commands[0x01]; n != 0 {
		t.Fatalf("device saw %d ECHO after a 500 in front of it", n)
	}

	d.Inject(FaultDropRequest)
	if _, _, err := post(t, srv.URL, echo); err == nil {
		t.Fatal("FaultDropRequest: request succeeded")
	}
	if n := d.Stats().Commands[0x01]; n != 0 {
		t.Fatalf("device saw %d ECHO after a dropped request", n)
	}

	d.Inject(FaultDropResponse)
	if _, _, err := post(t, srv.URL, echo); err == nil {
		t.Fatal("FaultDropResponse: request succeeded")
	}
	if n := d.Stats().Commands[0x01]; n != 1 {
		t.Fatalf("device saw %d ECHO, want 1 (run, then the answer dropped)", n)
	}

	// Faults are one-shot.
	if resp, got, err := post(t, srv.URL, echo); err != nil || resp.StatusCode != 200 || !bytes.Equal(got, frame(0x81, []byte("x"))) {
		t.Fatalf("after the faults: %v %x %v", resp, got, err)
	}
}

func TestCorruptResponseMAC(t *testing.T) {
	d := newDevice(t)
	s := openRaw(t, d, 1, DefaultPassword)
	d.Inject(FaultCorruptResponseMAC)
	sealed, err := s.ch.SealCommand(frame(0x01, []byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ch.OpenResponse(d.Transceive(sealed)); err == nil {
		t.Fatal("host accepted a response with a corrupted R-MAC")
	}
}
