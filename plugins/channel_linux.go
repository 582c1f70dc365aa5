package plugins

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// The plugin channel on Linux: gRPC over the unix socket go-plugin creates in a directory
// of mode 0700 that it makes for each launch, with each end asking the kernel who is at the
// other (SO_PEERCRED, taken when the connection is made) and hanging up on anyone else:
//
//   - the host talks only to the process it started, the plugin's pid;
//   - the plugin talks only to its parent, with its own uid.
//
// Another local user cannot reach the socket (the directory is the user's, mode 0700) and
// another process of the same user is refused by both checks, so neither can use the
// plugin's device nor pose as either side. That is what go-plugin's AutoMTLS achieved with
// a fresh P-521 certificate on each side and a TLS handshake, at about 25 ms per launch;
// this costs two system calls. Root can read any process's memory either way.

// autoMTLS is false: the channel is secured by peerCreds, not by go-plugin's AutoMTLS.
const autoMTLS = false

// channelName says how the channel is secured (PluginChannel, logs).
const channelName = "unix socket in a private directory, peer checked by SO_PEERCRED"

// peerCreds are gRPC transport credentials that encrypt nothing (the kernel carries the
// bytes) and accept a connection only if allow accepts the process at the other end.
type peerCreds struct {
	side  string // "host" or "plugin", for errors
	allow func(pid, uid int) error
}

// peerInfo is the AuthInfo of an accepted connection.
type peerInfo struct {
	credentials.CommonAuthInfo
	Pid, UID int
}

func (peerInfo) AuthType() string { return "awskeep-peercred" }

var _ credentials.TransportCredentials = peerCreds{}

func (c peerCreds) ClientHandshake(_ context.Context, _ string, conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.check(conn)
}

func (c peerCreds) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	return c.check(conn)
}

func (c peerCreds) Info() credentials.ProtocolInfo {
	return credentials.ProtocolInfo{SecurityProtocol: "awskeep-peercred"}
}

func (c peerCreds) Clone() credentials.TransportCredentials { return c }

func (c peerCreds) OverrideServerName(string) error { return nil }

// check hangs up unless conn is a unix socket whose peer allow accepts.
func (c peerCreds) check(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	pid, uid, err := peerOf(conn)
	if err == nil {
		err = c.allow(pid, uid)
	}
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("plugin channel (%s side): %w", c.side, err)
	}
	// The kernel's socket between two processes of one user, private from the others: as
	// private and intact as the TLS it replaces.
	return conn, peerInfo{CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}, Pid: pid, UID: uid}, nil
}

// peerOf asks the kernel which process is at the other end of conn (SO_PEERCRED: the
// peer's pid and uid when it connected or listened).
func peerOf(conn net.Conn) (pid, uid int, err error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return 0, 0, fmt.Errorf("refusing a %T connection: the channel is a unix socket", conn)
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *syscall.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if credErr != nil {
		return 0, 0, fmt.Errorf("SO_PEERCRED: %w", credErr)
	}
	return int(cred.Pid), int(cred.Uid), nil
}

// errStranger is every refusal's cause.
var errStranger = errors.New("the process at the other end of the socket is not the one expected")

// hostDialOptions make the host's connection check that the plugin, pid(), is at the other
// end. pid is read at dial time, after the process has started.
func hostDialOptions(pid func() int) []grpc.DialOption {
	return []grpc.DialOption{grpc.WithTransportCredentials(peerCreds{side: "host", allow: func(peerPid, _ int) error {
		if want := pid(); peerPid != want {
			return fmt.Errorf("%w: pid %d, the plugin is pid %d", errStranger, peerPid, want)
		}
		return nil
	}})}
}

// pluginGRPCServer is the plugin's gRPC server: with a host that set up go-plugin's
// AutoMTLS (an awskeep before protocol 1.2; it sends its certificate in
// PLUGIN_CLIENT_CERT) go-plugin's TLS as before, otherwise peerCreds accepting only the
// parent process, as this user.
func pluginGRPCServer(opts []grpc.ServerOption) *grpc.Server {
	if os.Getenv("PLUGIN_CLIENT_CERT") != "" {
		return plugin.DefaultGRPCServer(opts)
	}
	parent, self := os.Getppid(), os.Getuid()
	return plugin.DefaultGRPCServer(append(opts, grpc.Creds(peerCreds{side: "plugin", allow: func(pid, uid int) error {
		if pid != parent || uid != self {
			return fmt.Errorf("%w: pid %d uid %d, the host is pid %d uid %d", errStranger, pid, uid, parent, self)
		}
		return nil
	}})))
}
