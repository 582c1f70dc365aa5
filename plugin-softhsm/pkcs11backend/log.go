package pkcs11backend

import (
	"io"
	"log/slog"
	"strings"
)

// pluginLogger writes slog records as the JSON lines a go-plugin host files under the
// plugin's name (hclog's format: "@level", "@message", "@timestamp"), at debug level and
// up. The awskeep host shows them with --debug. Records never carry secrets.
func pluginLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.TimeKey:
				// go-plugin's host parses exactly this layout and drops lines it cannot parse.
				return slog.String("@timestamp", a.Value.Time().Format("2006-01-02T15:04:05.000000Z07:00"))
			case slog.LevelKey:
				return slog.String("@level", strings.ToLower(a.Value.String()))
			case slog.MessageKey:
				return slog.String("@message", a.Value.String())
			}
			return a
		},
	})).With("@module", Name)
}
