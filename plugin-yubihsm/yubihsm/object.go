package yubihsm

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// ObjectInfo is what GET_OBJECT_INFO reports about an object.
type ObjectInfo struct {
	Capabilities          Capabilities
	ID                    uint16
	Size                  uint16
	Domains               Domains
	Type                  ObjectType
	Algorithm             Algorithm
	Sequence              byte
	Origin                Origin
	Label                 string
	DelegatedCapabilities Capabilities
}

// ObjectInfoSize is the size of a GET_OBJECT_INFO response: capabilities (8) | id (2) |
// size (2) | domains (2) | type (1) | algorithm (1) | sequence (1) | origin (1) | label (40) |
// delegated capabilities (8).
const ObjectInfoSize = 8 + 2 + 2 + 2 + 1 + 1 + 1 + 1 + LabelSize + 8

// ParseObjectInfo decodes a GET_OBJECT_INFO response.
func ParseObjectInfo(b []byte) (ObjectInfo, error) {
	if len(b) != ObjectInfoSize {
		return ObjectInfo{}, fmt.Errorf("%w: GET_OBJECT_INFO: %d bytes, want %d", ErrMalformed, len(b), ObjectInfoSize)
	}
	return ObjectInfo{
		Capabilities:          Capabilities(binary.BigEndian.Uint64(b[0:8])),
		ID:                    binary.BigEndian.Uint16(b[8:10]),
		Size:                  binary.BigEndian.Uint16(b[10:12]),
		Domains:               Domains(binary.BigEndian.Uint16(b[12:14])),
		Type:                  ObjectType(b[14]),
		Algorithm:             Algorithm(b[15]),
		Sequence:              b[16],
		Origin:                Origin(b[17]),
		Label:                 UnpackLabel(b[18 : 18+LabelSize]),
		DelegatedCapabilities: Capabilities(binary.BigEndian.Uint64(b[18+LabelSize:])),
	}, nil
}

// Marshal encodes info as a GET_OBJECT_INFO response.
func (info ObjectInfo) Marshal() []byte {
	b := make([]byte, 0, ObjectInfoSize)
	b = binary.BigEndian.AppendUint64(b, uint64(info.Capabilities))
	b = binary.BigEndian.AppendUint16(b, info.ID)
	b = binary.BigEndian.AppendUint16(b, info.Size)
	b = binary.BigEndian.AppendUint16(b, uint16(info.Domains))
	b = append(b, byte(info.Type), byte(info.Algorithm), info.Sequence, byte(info.Origin))
	label, _ := PackLabel(info.Label)
	b = append(b, label[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(info.DelegatedCapabilities))
}

// PackLabel pads a label with zero bytes to LabelSize. Longer labels are an error.
func PackLabel(label string) ([LabelSize]byte, error) {
	var b [LabelSize]byte
	if len(label) > LabelSize {
		return b, fmt.Errorf("yubihsm: label %q is %d bytes, the limit is %d", label, len(label), LabelSize)
	}
	copy(b[:], label)
	return b, nil
}

// UnpackLabel cuts a wire label at its first zero byte.
func UnpackLabel(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// ObjectSpec holds the attributes every object-creating command starts with: id (2) |
// label (40) | domains (2) | capabilities (8) | algorithm (1).
type ObjectSpec struct {
	// ID is the object id; 0 lets the device choose one.
	ID           uint16
	Label        string
	Domains      Domains
	Capabilities Capabilities
	Algorithm    Algorithm
}

// ObjectSpecSize is the encoded size of an ObjectSpec.
const ObjectSpecSize = 2 + LabelSize + 2 + 8 + 1

// Marshal encodes s as the header of PUT_HMAC_KEY, GENERATE_HMAC_KEY and
// PUT_AUTHENTICATION_KEY.
func (s ObjectSpec) Marshal() ([]byte, error) {
	label, err := PackLabel(s.Label)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, ObjectSpecSize)
	b = binary.BigEndian.AppendUint16(b, s.ID)
	b = append(b, label[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(s.Domains))
	b = binary.BigEndian.AppendUint64(b, uint64(s.Capabilities))
	return append(b, byte(s.Algorithm)), nil
}

// ParseObjectSpec decodes the header of an object-creating command and returns the rest.
func ParseObjectSpec(b []byte) (ObjectSpec, []byte, error) {
	if len(b) < ObjectSpecSize {
		return ObjectSpec{}, nil, fmt.Errorf("%w: object attributes: %d bytes", ErrMalformed, len(b))
	}
	return ObjectSpec{
		ID:           binary.BigEndian.Uint16(b[0:2]),
		Label:        UnpackLabel(b[2 : 2+LabelSize]),
		Domains:      Domains(binary.BigEndian.Uint16(b[2+LabelSize:])),
		Capabilities: Capabilities(binary.BigEndian.Uint64(b[4+LabelSize:])),
		Algorithm:    Algorithm(b[12+LabelSize]),
	}, b[ObjectSpecSize:], nil
}

// ObjectRef is one LIST_OBJECTS entry: id (2) | type (1) | sequence (1).
type ObjectRef struct {
	ID       uint16
	Type     ObjectType
	Sequence byte
}

// ParseObjectList decodes a LIST_OBJECTS response.
func ParseObjectList(b []byte) ([]ObjectRef, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%w: LIST_OBJECTS: %d bytes is not a multiple of 4", ErrMalformed, len(b))
	}
	refs := make([]ObjectRef, 0, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		refs = append(refs, ObjectRef{ID: binary.BigEndian.Uint16(b[i:]), Type: ObjectType(b[i+2]), Sequence: b[i+3]})
	}
	return refs, nil
}

// Filter is one LIST_OBJECTS filter, a tag followed by a fixed-size value.
type Filter struct {
	tag   byte
	value []byte
}

// LIST_OBJECTS filter tags.
const (
	FilterTagID           byte = 0x01
	FilterTagType         byte = 0x02
	FilterTagDomains      byte = 0x03
	FilterTagCapabilities byte = 0x04
	FilterTagAlgorithm    byte = 0x05
	FilterTagLabel        byte = 0x06
)

// FilterID keeps objects with this id.
func FilterID(id uint16) Filter {
	return Filter{FilterTagID, binary.BigEndian.AppendUint16(nil, id)}
}

// FilterType keeps objects of this type.
func FilterType(t ObjectType) Filter { return Filter{FilterTagType, []byte{byte(t)}} }

// FilterDomains keeps objects in any of these domains.
func FilterDomains(d Domains) Filter {
	return Filter{FilterTagDomains, binary.BigEndian.AppendUint16(nil, uint16(d))}
}

// FilterCapabilities keeps objects with any of these capabilities.
func FilterCapabilities(c Capabilities) Filter {
	return Filter{FilterTagCapabilities, binary.BigEndian.AppendUint64(nil, uint64(c))}
}

// FilterAlgorithm keeps objects with this algorithm.
func FilterAlgorithm(a Algorithm) Filter { return Filter{FilterTagAlgorithm, []byte{byte(a)}} }

// FilterLabel keeps objects with exactly this label, which must fit LabelSize bytes.
func FilterLabel(label string) (Filter, error) {
	l, err := PackLabel(label)
	if err != nil {
		return Filter{}, err
	}
	return Filter{FilterTagLabel, l[:]}, nil
}
