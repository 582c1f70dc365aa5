package plugins

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// TestHostRefusesAnImpostor: a socket served by any process but the plugin the host
// started (here this very process, under a pid the host does not expect) gets no request:
// the host hangs up during the handshake. The control, expecting this process's pid, gets
// through to the server (which knows no methods: Unimplemented).
func TestHostRefusesAnImpostor(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	go srv.Serve(l)
	t.Cleanup(srv.Stop)

	call := func(pid int) error {
		conn, err := grpc.NewClient("unix:"+path, hostDialOptions(func() int { return pid })...)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return conn.Invoke(ctx, "/awskeep.test/Nothing", &emptypb.Empty{}, &emptypb.Empty{})
	}
	if err := call(os.Getpid()); status.Code(err) != codes.Unimplemented {
		t.Fatalf("expecting this process: %v, want Unimplemented from the server", err)
	}
	err = call(os.Getpid() + 1)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "not the one expected") {
		t.Fatalf("expecting another pid: %v, want the handshake refused", err)
	}
}
