package yubihsm

import (
	"encoding/binary"
	"fmt"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
)

// MaxFrameSize is the largest frame the YubiHSM 2 accepts or sends, header included.
const MaxFrameSize = scp03.MaxFrameSize

// MaxHMACData is the most data SIGN_HMAC can carry: the inner frame (3 + 2 + data bytes),
// padded to whole AES blocks and wrapped in a SESSION_MESSAGE (3 + 1 + ... + 8 bytes), must
// fit in MaxFrameSize.
const MaxHMACData = (MaxFrameSize-3-1-scp03.MACSize)/16*16 - 1 - 3 - 2

// encodeFrame builds cmd | len (16 bits, big endian) | data.
func encodeFrame(cmd Command, data []byte) ([]byte, error) {
	if 3+len(data) > MaxFrameSize {
		return nil, fmt.Errorf("%w: %v with %d bytes of data", ErrTooLarge, cmd, len(data))
	}
	f := make([]byte, 3, 3+len(data))
	f[0] = byte(cmd)
	binary.BigEndian.PutUint16(f[1:], uint16(len(data)))
	return append(f, data...), nil
}

// ParseResponse checks a response frame to cmd and returns its data. An error response
// (7f | 0001 | code) becomes a [*DeviceError]; anything else that is not cmd|0x80 with a
// length matching the frame is ErrMalformed.
func ParseResponse(cmd Command, frame []byte) ([]byte, error) {
	if len(frame) < 3 {
		return nil, fmt.Errorf("%w: %v: %d-byte frame", ErrMalformed, cmd, len(frame))
	}
	n := int(binary.BigEndian.Uint16(frame[1:3]))
	if n != len(frame)-3 {
		return nil, fmt.Errorf("%w: %v: length field %d, %d bytes of data", ErrMalformed, cmd, n, len(frame)-3)
	}
	switch Command(frame[0]) {
	case CmdError:
		if n != 1 {
			return nil, fmt.Errorf("%w: %v: error response of %d bytes", ErrMalformed, cmd, n)
		}
		return nil, &DeviceError{Command: cmd, Code: ErrorCode(frame[3])}
	case cmd | ResponseFlag:
		return frame[3:], nil
	}
	return nil, fmt.Errorf("%w: %v answered with %v", ErrMalformed, cmd, Command(frame[0]))
}
