//go:build linux && cgo

package cfront

// #cgo CFLAGS: -std=c11 -O2 -Wall -Wextra -Werror -DAWSKEEP_FRONT_NO_MAIN
// #include <stdlib.h>
// #include "front.h"
// static const char *env_name(int i) { return front_env_names[i]; }
import "C"

import (
	"errors"
	"os"
	"unsafe"
)

// Routable is front_routable.
func Routable(args []string) bool {
	cargs, free := cStrings(args)
	defer free()
	return C.front_routable(C.int(len(args)), cargs) != 0
}

// Inputs is front_inputs for args, with the full program at full; ok is false where the
// front leaves the invocation to the full program. It reads the process environment.
func Inputs(args []string, full string) (inputs []byte, ok bool) {
	f, err := os.Open(full)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	cargs, free := cStrings(args)
	defer free()
	var b C.struct_front_buf
	defer C.front_buf_free(&b)
	if C.front_inputs(C.int(len(args)), cargs, C.int(f.Fd()), &b) != 0 {
		return nil, false
	}
	return C.GoBytes(unsafe.Pointer(b.p), C.int(b.len)), true
}

// Digest is front_digest.
func Digest(inputs []byte) string {
	var d [33]C.char
	C.front_digest(cBytes(inputs), C.size_t(len(inputs)), &d[0])
	return C.GoString(&d[0])
}

// Name is front_name.
func Name(inputs []byte) string {
	var name [17]C.char
	C.front_name(cBytes(inputs), C.size_t(len(inputs)), &name[0])
	return C.GoString(&name[0])
}

// AnswerHeader is front_answer_header.
type AnswerHeader struct {
	NotAfter      int64
	Entry         string
	Dev, Ino      uint64
	Size, MtimeNS int64
	Digest        string
	AnswerLen     int
	BodyOffset    int
}

// ParseAnswer is front_parse_answer.
func ParseAnswer(data []byte) (AnswerHeader, bool) {
	var h C.struct_front_answer_header
	var off C.size_t
	if C.front_parse_answer(cBytes(data), C.size_t(len(data)), &h, &off) != 0 {
		return AnswerHeader{}, false
	}
	return AnswerHeader{
		NotAfter:   int64(h.not_after),
		Entry:      C.GoString(&h.entry[0]),
		Dev:        uint64(h.dev),
		Ino:        uint64(h.ino),
		Size:       int64(h.size),
		MtimeNS:    int64(h.mtime_ns),
		Digest:     C.GoString(&h.digest[0]),
		AnswerLen:  int(h.answer_len),
		BodyOffset: int(off),
	}, true
}

// ReadAnswer is front_read_answer.
func ReadAnswer(dir, name string, inputs []byte) ([]byte, bool) {
	cdir, cname := C.CString(dir), C.CString(name)
	defer C.free(unsafe.Pointer(cdir))
	defer C.free(unsafe.Pointer(cname))
	var b C.struct_front_buf
	defer C.front_buf_free(&b)
	var off C.size_t
	if C.front_read_answer(cdir, cname, cBytes(inputs), C.size_t(len(inputs)), &b, &off) != 0 {
		return nil, false
	}
	return C.GoBytes(unsafe.Pointer(uintptr(unsafe.Pointer(b.p))+uintptr(off)), C.int(b.len-off)), true
}

// CacheDir is front_cache_dir; ok is false where the front leaves it to the full program.
func CacheDir() (string, bool) { return cPath(C.front_cache_dir()) }

// ConfigPath is front_config_path; ok is false where the front leaves it to the full
// program.
func ConfigPath() (string, bool) { return cPath(C.front_config_path()) }

// TrustOpen is front_trust_open: nil if the front would run the file at path.
func TrustOpen(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var msg [8192]C.char
	fd := C.front_trust_open(cpath, &msg[0], C.size_t(len(msg)))
	if fd < 0 {
		return errors.New(C.GoString(&msg[0]))
	}
	os.NewFile(uintptr(fd), path).Close()
	return nil
}

// EnvNames is front_env_names.
func EnvNames() []string {
	var names []string
	for i := C.int(0); C.env_name(i) != nil; i++ {
		names = append(names, C.GoString(C.env_name(i)))
	}
	return names
}

func cPath(p *C.char) (string, bool) {
	if p == nil {
		return "", false
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoString(p), true
}

// cBytes points C at b's bytes (never nil, so that memcmp and friends get a valid pointer).
func cBytes(b []byte) *C.uchar {
	if len(b) == 0 {
		return (*C.uchar)(unsafe.Pointer(&[1]byte{}))
	}
	return (*C.uchar)(unsafe.Pointer(&b[0]))
}

// cStrings is args as a C array of C strings, and its release.
func cStrings(args []string) (**C.char, func()) {
	arr := (*[1 << 20]*C.char)(C.malloc(C.size_t(len(args)+1) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	for i, a := range args {
		arr[i] = C.CString(a)
	}
	arr[len(args)] = nil
	return &arr[0], func() {
		for i := range args {
			C.free(unsafe.Pointer(arr[i]))
		}
		C.free(unsafe.Pointer(arr))
	}
}
