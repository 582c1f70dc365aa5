package sigv4

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzResignChunks feeds ResignChunks bodies encoded with testSecret, then changed at one
// byte, or raw bytes. It must never panic; on error it must not have written a complete
// body; what it accepts must keep the length, sizes and data, and re-signing the output
// back with the first key must give the input again.
func FuzzResignChunks(f *testing.F) {
	f.Add([]byte("hello, chunked world"), uint8(7), uint16(0), byte(0), false, []byte(nil))
	f.Add([]byte("0123456789abcdefXYZ"), uint8(7), uint16(3), byte('A'), true, []byte(nil))
	f.Add([]byte(""), uint8(0), uint16(0), byte(0), false, []byte(nil))
	f.Add([]byte("x"), uint8(0), uint16(90), byte(':'), true, []byte(nil))
	f.Add([]byte(nil), uint8(0), uint16(0), byte(0), false, []byte("8;chunk-signature="+testSig+"\r\n01234567\r\n0;chunk-signature="+testSig+"\r\n\r\n"))
	f.Add([]byte(nil), uint8(0), uint16(0), byte(0), false, []byte("0;chunk-signature="+testSig+"\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"))
	f.Add([]byte(nil), uint8(0), uint16(0), byte(0), false, []byte("1000001;chunk-signature="+testSig+"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte, size uint8, pos uint16, val byte, mutate bool, raw []byte) {
		body := raw
		if len(raw) == 0 {
			body = encodeChunks(newTestChunkSigner(t, testSecret, testSig), data, int(size)+1)
			if mutate {
				body[int(pos)%len(body)] = val
			}
		}
		var out bytes.Buffer
		err := ResignChunks(&out, bytes.NewReader(body), newTestChunkSigner(t, testSecret, testSig), newTestChunkSigner(t, otherSecret, chunkDocSeed))
		if err != nil {
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *VerifyError", err)
			}
			switch ve.Err {
			case ErrMalformedChunk, ErrChunkTooLarge, ErrSignatureDoesNotMatch, ErrTrailerNotSupported:
			default:
				t.Fatalf("error %v wraps an unexpected sentinel", err)
			}
			if _, derr := decodeChunks(out.Bytes()); derr == nil {
				t.Fatalf("a complete body was written before error %v", err)
			}
			return
		}
		if out.Len() != len(body) {
			t.Fatalf("output %d bytes, input %d", out.Len(), len(body))
		}
		in, err := decodeChunks(body)
		if err != nil {
			t.Fatalf("accepted a body the reference decoder refuses: %v", err)
		}
		got, err := decodeChunks(out.Bytes())
		if err != nil || len(got) != len(in) {
			t.Fatalf("output does not decode: %v", err)
		}
		var decoded []byte
		for i := range in {
			if got[i].sizeText != in[i].sizeText || !bytes.Equal(got[i].data, in[i].data) {
				t.Fatalf("chunk %d changed: %q %q -> %q %q", i, in[i].sizeText, in[i].data, got[i].sizeText, got[i].data)
			}
			decoded = append(decoded, in[i].data...)
		}
		if len(raw) == 0 && !bytes.Equal(decoded, data) {
			t.Fatalf("accepted a changed body: data %q, decoded %q", data, decoded)
		}
		var back bytes.Buffer
		if err := ResignChunks(&back, bytes.NewReader(out.Bytes()), newTestChunkSigner(t, otherSecret, chunkDocSeed), newTestChunkSigner(t, testSecret, testSig)); err != nil {
			t.Fatalf("output does not verify with the second key: %v", err)
		}
		if !bytes.Equal(back.Bytes(), body) {
			t.Fatal("re-signing back does not give the input")
		}
	})
}
