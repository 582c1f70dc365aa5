package sim

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
)

// Fault is a failure the device's HTTP front end or the device itself injects once.
type Fault int

const (
	// FaultHTTP500 answers the next API request with HTTP 500; the device never sees it.
	FaultHTTP500 Fault = iota + 1
	// FaultDropRequest closes the connection of the next API request unanswered; the
	// device never sees it.
	FaultDropRequest
	// FaultDropResponse runs the next API request on the device, then closes the connection
	// without the response: the host cannot know whether the command ran.
	FaultDropResponse
	// FaultCorruptResponseMAC flips a bit of the R-MAC of the next SESSION_MESSAGE response.
	FaultCorruptResponseMAC
)

// String names the fault, e.g. "http-500".
func (f Fault) String() string {
	switch f {
	case FaultHTTP500:
		return "http-500"
	case FaultDropRequest:
		return "drop-request"
	case FaultDropResponse:
		return "drop-response"
	case FaultCorruptResponseMAC:
		return "corrupt-response-mac"
	}
	return fmt.Sprintf("fault %d", int(f))
}

// Inject arms a fault for the next request it applies to. Faults queue in order.
func (d *Device) Inject(f Fault) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if f == FaultCorruptResponseMAC {
		d.corrupt++
		return
	}
	d.faults = append(d.faults, f)
}

func (d *Device) nextHTTPFault() Fault {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.faults) == 0 {
		return 0
	}
	f := d.faults[0]
	d.faults = d.faults[1:]
	return f
}

// ServeHTTP serves yubihsm-connector's API: POST /connector/api with one command frame as
// the body, answered by the response frame; GET /connector/status with key=value lines.
func (d *Device) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/connector/status":
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "status=OK\nserial=%010d\nversion=3.0.5\npid=%d\naddress=%s\nport=%s\n",
			d.serial, os.Getpid(), hostOf(r.Host), portOf(r.Host))
	case "/connector/api":
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		d.serveAPI(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (d *Device) serveAPI(w http.ResponseWriter, r *http.Request) {
	frame, err := io.ReadAll(io.LimitReader(r.Body, 2*scp03.MaxFrameSize))
	if err != nil {
		http.Error(w, "reading request: "+err.Error(), http.StatusBadRequest)
		return
	}
	fault := d.nextHTTPFault()
	switch fault {
	case FaultHTTP500:
		http.Error(w, "injected fault: device error", http.StatusInternalServerError)
		return
	case FaultDropRequest:
		hangUp(w)
		return
	}
	rsp := d.Transceive(frame)
	if fault == FaultDropResponse {
		hangUp(w)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(rsp)
}

// hangUp closes the client's connection without an HTTP response.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server drops the connection
}

func hostOf(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

func portOf(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

// Server serves a Device over HTTP on a local TCP port, like yubihsm-connector.
type Server struct {
	// Device is the simulated device behind the server.
	Device *Device
	// URL is the connector URL to give clients, e.g. http://127.0.0.1:41234.
	URL string
	ln  net.Listener
	srv *http.Server
}

// Listen serves d on addr, e.g. "127.0.0.1:0" for a free port, until Close.
func Listen(d *Device, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sim: listen on %s: %w", addr, err)
	}
	s := &Server{
		Device: d, URL: "http://" + ln.Addr().String(), ln: ln,
		srv: &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second},
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "sim: serve: %v\n", err)
		}
	}()
	return s, nil
}

// Addr returns the address the server listens on, host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server and closes its connections.
func (s *Server) Close() error { return s.srv.Close() }

// Compile-time check: a Device is what the connector URL serves.
var _ http.Handler = (*Device)(nil)
