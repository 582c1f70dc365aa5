//go:build !linux

package plugins

import (
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Without SO_PEERCRED the channel stays go-plugin's AutoMTLS: a fresh certificate on each
// side for every launch, and mutual TLS.
const autoMTLS = true

const channelName = "go-plugin AutoMTLS"

func hostDialOptions(func() int) []grpc.DialOption { return nil }

func pluginGRPCServer(opts []grpc.ServerOption) *grpc.Server { return plugin.DefaultGRPCServer(opts) }
