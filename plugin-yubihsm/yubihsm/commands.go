package yubihsm

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"

	"github.com/awskeep/awskeep/plugin-yubihsm/scp03"
)

// Echo sends data through the session with ECHO and returns what came back.
func (c *Client) Echo(ctx context.Context, data []byte) ([]byte, error) {
	return c.do(ctx, CmdEcho, data)
}

// PutHMACKey imports key as an HMAC key object (PUT_HMAC_KEY) and returns its id. A zero
// spec.Algorithm means hmac-sha256. A key longer than the hash's block is replaced by its
// hash first, which gives the same HMAC (RFC 2104 section 2) and is what the device accepts.
func (c *Client) PutHMACKey(ctx context.Context, spec ObjectSpec, key []byte) (uint16, error) {
	if spec.Algorithm == 0 {
		spec.Algorithm = AlgHMACSHA256
	}
	_, maxKey := spec.Algorithm.HMACSize()
	if maxKey == 0 {
		return 0, fmt.Errorf("yubihsm: PUT_HMAC_KEY: %v is not an HMAC algorithm", spec.Algorithm)
	}
	if len(key) == 0 {
		return 0, fmt.Errorf("yubihsm: PUT_HMAC_KEY: empty key")
	}
	if len(key) > maxKey {
		h := hmacHash(spec.Algorithm)()
		h.Write(key)
		key = h.Sum(nil)
	}
	hdr, err := spec.Marshal()
	if err != nil {
		return 0, err
	}
	data := append(hdr, key...)
	defer clear(data)
	return c.newObject(ctx, CmdPutHMACKey, data)
}

func hmacHash(a Algorithm) func() hash.Hash {
	switch a {
	case AlgHMACSHA1:
		return sha1.New
	case AlgHMACSHA384:
		return sha512.New384
	case AlgHMACSHA512:
		return sha512.New
	}
	return sha256.New
}

// GenerateHMACKey has the device generate an HMAC key object (GENERATE_HMAC_KEY) and
// returns its id.
func (c *Client) GenerateHMACKey(ctx context.Context, spec ObjectSpec) (uint16, error) {
	if spec.Algorithm == 0 {
		spec.Algorithm = AlgHMACSHA256
	}
	data, err := spec.Marshal()
	if err != nil {
		return 0, err
	}
	return c.newObject(ctx, CmdGenerateHMACKey, data)
}

// PutAuthenticationKey creates an authentication key object (PUT_AUTHENTICATION_KEY) with
// the keys derived from password, and returns its id. delegated bounds the capabilities of
// objects created in its sessions. spec.Algorithm is ignored.
func (c *Client) PutAuthenticationKey(ctx context.Context, spec ObjectSpec, delegated Capabilities, password string) (uint16, error) {
	keys, err := scp03.DeriveStaticKeys(password)
	if err != nil {
		return 0, fmt.Errorf("yubihsm: %w", err)
	}
	spec.Algorithm = AlgAES128YubicoAuthentication
	hdr, err := spec.Marshal()
	if err != nil {
		return 0, err
	}
	data := binary.BigEndian.AppendUint64(hdr, uint64(delegated))
	data = append(data, keys.Enc[:]...)
	data = append(data, keys.MAC[:]...)
	defer clear(data)
	return c.newObject(ctx, CmdPutAuthenticationKey, data)
}

func (c *Client) newObject(ctx context.Context, cmd Command, data []byte) (uint16, error) {
	out, err := c.do(ctx, cmd, data)
	if err != nil {
		return 0, err
	}
	if len(out) != 2 {
		return 0, fmt.Errorf("%w: %v: %d bytes, want an object id", ErrMalformed, cmd, len(out))
	}
	return binary.BigEndian.Uint16(out), nil
}

// SignHMAC computes the HMAC of data with key object id (SIGN_HMAC). data is at most
// MaxHMACData bytes.
func (c *Client) SignHMAC(ctx context.Context, id uint16, data []byte) ([]byte, error) {
	if len(data) > MaxHMACData {
		return nil, fmt.Errorf("%w: SIGN_HMAC takes at most %d bytes of data, got %d", ErrTooLarge, MaxHMACData, len(data))
	}
	out, err := c.do(ctx, CmdSignHMAC, append(binary.BigEndian.AppendUint16(nil, id), data...))
	if err != nil {
		return nil, err
	}
	switch len(out) {
	case 20, 32, 48, 64:
		return out, nil
	}
	return nil, fmt.Errorf("%w: SIGN_HMAC: %d-byte tag", ErrMalformed, len(out))
}

// VerifyHMAC asks the device whether tag is the HMAC of data under key object id
// (VERIFY_HMAC).
func (c *Client) VerifyHMAC(ctx context.Context, id uint16, tag, data []byte) (bool, error) {
	msg := binary.BigEndian.AppendUint16(nil, id)
	msg = append(msg, tag...)
	out, err := c.do(ctx, CmdVerifyHMAC, append(msg, data...))
	if err != nil {
		return false, err
	}
	if len(out) != 1 || out[0] > 1 {
		return false, fmt.Errorf("%w: VERIFY_HMAC: %x", ErrMalformed, out)
	}
	return out[0] == 1, nil
}

// GetObjectInfo reports an object's attributes (GET_OBJECT_INFO). A missing object, or one
// outside the session's domains, is ErrObjectNotFound.
func (c *Client) GetObjectInfo(ctx context.Context, id uint16, t ObjectType) (ObjectInfo, error) {
	out, err := c.do(ctx, CmdGetObjectInfo, append(binary.BigEndian.AppendUint16(nil, id), byte(t)))
	if err != nil {
		return ObjectInfo{}, err
	}
	return ParseObjectInfo(out)
}

// DeleteObject deletes an object (DELETE_OBJECT).
func (c *Client) DeleteObject(ctx context.Context, id uint16, t ObjectType) error {
	out, err := c.do(ctx, CmdDeleteObject, append(binary.BigEndian.AppendUint16(nil, id), byte(t)))
	if err != nil {
		return err
	}
	if len(out) != 0 {
		return fmt.Errorf("%w: DELETE_OBJECT: %d bytes of data, want none", ErrMalformed, len(out))
	}
	return nil
}

// ListObjects lists the objects visible to the session that pass every filter
// (LIST_OBJECTS).
func (c *Client) ListObjects(ctx context.Context, filters ...Filter) ([]ObjectRef, error) {
	var msg []byte
	for _, f := range filters {
		msg = append(append(msg, f.tag), f.value...)
	}
	out, err := c.do(ctx, CmdListObjects, msg)
	if err != nil {
		return nil, err
	}
	return ParseObjectList(out)
}

// DeviceInfo is what DEVICE_INFO reports.
type DeviceInfo struct {
	Version    [3]byte
	Serial     uint32
	LogSize    byte
	LogUsed    byte
	Algorithms []Algorithm
}

// ParseDeviceInfo decodes a DEVICE_INFO response: version (3) | serial (4) | log size (1) |
// log used (1) | algorithms (1 each).
func ParseDeviceInfo(b []byte) (DeviceInfo, error) {
	if len(b) < 9 {
		return DeviceInfo{}, fmt.Errorf("%w: DEVICE_INFO: %d bytes", ErrMalformed, len(b))
	}
	info := DeviceInfo{Serial: binary.BigEndian.Uint32(b[3:7]), LogSize: b[7], LogUsed: b[8]}
	copy(info.Version[:], b[:3])
	for _, a := range b[9:] {
		info.Algorithms = append(info.Algorithms, Algorithm(a))
	}
	return info, nil
}

// DeviceInfo asks the device for its version and serial number (DEVICE_INFO). It needs no
// session and no password.
func (c *Client) DeviceInfo(ctx context.Context) (DeviceInfo, error) {
	if err := c.lock(ctx); err != nil {
		return DeviceInfo{}, err
	}
	defer c.unlock()
	req, _ := encodeFrame(CmdDeviceInfo, nil)
	rsp, err := c.t.Transceive(ctx, req)
	if err != nil {
		return DeviceInfo{}, err
	}
	data, err := ParseResponse(CmdDeviceInfo, rsp)
	if err != nil {
		return DeviceInfo{}, err
	}
	return ParseDeviceInfo(data)
}
