package sim

import (
	"context"

	"github.com/awskeep/awskeep/plugin-yubihsm/yubihsm"
)

// directTransport carries frames to a Device in process, without HTTP.
type directTransport struct{ d *Device }

func (t directTransport) Transceive(ctx context.Context, frame []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return t.d.Transceive(frame), nil
}

// Transport returns a yubihsm.Transport that hands frames straight to d, for in-process
// clients and benchmarks that leave HTTP out. The HTTP faults (FaultHTTP500, FaultDrop*) do
// not apply to it; FaultCorruptResponseMAC does.
func (d *Device) Transport() yubihsm.Transport { return directTransport{d} }
