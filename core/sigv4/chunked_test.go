package sigv4

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The example of "Signature Calculations for the Authorization Header: Transferring Payload
// in Multiple Chunks (Chunked Upload)" in the Amazon S3 API Reference: a PUT of 66560 bytes
// of 'a' in a 64 KiB and a 1 KiB chunk, signed with the docs' example key on 2013-05-24.
const (
	chunkDocAccessKey   = "AKIAIOSFODNN7EXAMPLE"
	chunkDocSecret      = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" // the S3 docs' key: "/bPx", not "+bPx"
	chunkDocSeed        = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	chunkDocSig1        = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	chunkDocSig2        = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
	chunkDocFinal       = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	chunkDocEncodedLen  = 66824
	chunkDocDecodedLen  = 66560
	chunkDocFirstChunk  = 64 << 10
	chunkDocSecondChunk = 1 << 10
)

var chunkDocTime = time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)

func s3Opts(o *Options) { o.DisableURIPathEscaping = true }

// chunkDocRequest is the docs' example request before signing.
func chunkDocRequest(t testing.TB) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodPut, "https://s3.amazonaws.com/examplebucket/chunkObject.txt", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(chunkDocDecodedLen))
	r.ContentLength = chunkDocEncodedLen
	return r
}

// writeTestChunk appends one encoded chunk signed by cs.
func writeTestChunk(b *bytes.Buffer, cs *ChunkSigner, chunk []byte) {
	fmt.Fprintf(b, "%x;chunk-signature=%s\r\n", len(chunk), cs.Sign(chunk))
	b.Write(chunk)
	b.WriteString("\r\n")
}

// encodeChunks encodes data in chunks of size bytes (the last one shorter) and the final
// empty chunk, signed by cs.
func encodeChunks(cs *ChunkSigner, data []byte, size int) []byte {
	var b bytes.Buffer
	for len(data) > 0 {
		n := min(size, len(data))
		writeTestChunk(&b, cs, data[:n])
		data = data[n:]
	}
	writeTestChunk(&b, cs, nil)
	return b.Bytes()
}

type testChunk struct {
	sizeText, sig string
	data          []byte
}

// decodeChunks is an independent, simple parser of a complete aws-chunked body.
func decodeChunks(b []byte) ([]testChunk, error) {
	var out []testChunk
	for {
		line, rest, ok := bytes.Cut(b, []byte("\r\n"))
		if !ok {
			return nil, errors.New("no header line")
		}
		size, sig, ok := strings.Cut(string(line), ";chunk-signature=")
		if !ok {
			return nil, errors.New("no signature")
		}
		n, err := strconv.ParseUint(size, 16, 64)
		if err != nil || uint64(len(rest)) < n+2 || string(rest[n:n+2]) != "\r\n" {
			return nil, errors.New("bad chunk")
		}
		out = append(out, testChunk{size, sig, rest[:n]})
		b = rest[n+2:]
		if n == 0 {
			if len(b) != 0 {
				return nil, errors.New("data after the final chunk")
			}
			return out, nil
		}
	}
}

func newTestChunkSigner(t testing.TB, secret, seed string) *ChunkSigner {
	t.Helper()
	cs, err := New(SoftwareDeriver(secret)).NewChunkSigner(context.Background(), seed, chunkDocTime, "us-east-1", "s3")
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestChunkSignerKnownAnswer(t *testing.T) {
	ctx := context.Background()
	d := &countingDeriver{d: SoftwareDeriver(chunkDocSecret)}
	r := chunkDocRequest(t)
	cs, err := New(d, s3Opts).SignHTTPChunked(ctx, r, Credentials{AccessKeyID: chunkDocAccessKey}, "s3", "us-east-1", chunkDocTime)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.calls.Load(); got != 1 {
		t.Errorf("SignHTTPChunked called the Deriver %d times, want 1", got)
	}
	wantAuth := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
		"SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class, " +
		"Signature=" + chunkDocSeed
	if got := r.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("Authorization\n got %s\nwant %s", got, wantAuth)
	}
	if got := r.Header.Get("X-Amz-Content-Sha256"); got != StreamingPayload {
		t.Errorf("X-Amz-Content-Sha256 = %q", got)
	}

	data := bytes.Repeat([]byte("a"), chunkDocDecodedLen)
	for i, want := range []string{chunkDocSig1, chunkDocSig2, chunkDocFinal} {
		chunk := [][]byte{data[:chunkDocFirstChunk], data[chunkDocFirstChunk:], nil}[i]
		if got := cs.Sign(chunk); got != want {
			t.Errorf("chunk %d signature %s, want %s", i+1, got, want)
		}
	}

	// The same with NewChunkSigner from the seed, and the encoded length of the docs.
	body := encodeChunks(newTestChunkSigner(t, chunkDocSecret, chunkDocSeed), data, chunkDocFirstChunk)
	if len(body) != chunkDocEncodedLen {
		t.Errorf("encoded length %d, want %d", len(body), chunkDocEncodedLen)
	}
	chunks, err := decodeChunks(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(chunks) != 3 || chunks[0].sig != chunkDocSig1 || chunks[1].sig != chunkDocSig2 || chunks[2].sig != chunkDocFinal ||
		chunks[0].sizeText != "10000" || chunks[1].sizeText != "400" {
		t.Errorf("chunks %v %v %v", chunks[0].sig, chunks[1].sig, chunks[2].sig)
	}
}

// TestResignChunksDocExample plays the proxy on the docs' example: verify the request and
// its chunks with the local key, re-sign both with another key, and check the result as
// S3 would.
func TestResignChunksDocExample(t *testing.T) {
	ctx := context.Background()
	data := bytes.Repeat([]byte("a"), chunkDocDecodedLen)
	in := chunkDocRequest(t)
	clientCS, err := New(SoftwareDeriver(chunkDocSecret), s3Opts).SignHTTPChunked(ctx, in, Credentials{AccessKeyID: chunkDocAccessKey}, "s3", "us-east-1", chunkDocTime)
	if err != nil {
		t.Fatal(err)
	}
	body := encodeChunks(clientCS, data, chunkDocFirstChunk)

	local := &countingDeriver{d: SoftwareDeriver(chunkDocSecret)}
	auth, verify, err := New(local, s3Opts).VerifyHTTPChunked(ctx, in, chunkDocTime.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Signature != chunkDocSeed || local.calls.Load() != 1 {
		t.Fatalf("auth %+v, %d Deriver calls", auth, local.calls.Load())
	}

	device := &countingDeriver{d: SoftwareDeriver(otherSecret)}
	out := chunkDocRequest(t)
	resign, err := New(device, s3Opts).SignHTTPChunked(ctx, out, Credentials{AccessKeyID: "AKIDDEVICE"}, "s3", "us-east-1", chunkDocTime.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var resigned bytes.Buffer
	if err := ResignChunks(&resigned, bytes.NewReader(body), verify, resign); err != nil {
		t.Fatal(err)
	}
	if device.calls.Load() != 1 {
		t.Errorf("%d device Deriver calls for one request, want 1", device.calls.Load())
	}
	if resigned.Len() != len(body) || int64(resigned.Len()) != out.ContentLength {
		t.Errorf("re-signed length %d, input %d, Content-Length %d", resigned.Len(), len(body), out.ContentLength)
	}
	got, err := decodeChunks(resigned.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := decodeChunks(body)
	for i := range want {
		if got[i].sizeText != want[i].sizeText || !bytes.Equal(got[i].data, want[i].data) || got[i].sig == want[i].sig {
			t.Errorf("chunk %d: size %s data %d bytes sig %s, input %s %d %s", i, got[i].sizeText, len(got[i].data), got[i].sig, want[i].sizeText, len(want[i].data), want[i].sig)
		}
	}

	// S3's side: the forwarded request and its chunks verify with the device key.
	_, s3Verify, err := New(SoftwareDeriver(otherSecret), s3Opts).VerifyHTTPChunked(ctx, out, chunkDocTime.Add(2*time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	outAuth, _ := ParseAuthorization(out.Header.Get("Authorization"))
	back := newTestChunkSigner(t, chunkDocSecret, chunkDocSeed)
	var restored bytes.Buffer
	if err := ResignChunks(&restored, bytes.NewReader(resigned.Bytes()), s3Verify, back); err != nil {
		t.Fatal(err)
	}
	// Re-signing back with the client's key and seed gives the client's body.
	if !bytes.Equal(restored.Bytes(), body) {
		t.Error("re-signing back does not give the original body")
	}
	if outAuth.AccessKeyID != "AKIDDEVICE" {
		t.Errorf("forwarded access key %q", outAuth.AccessKeyID)
	}
}

// smallStream is a body of three data chunks (8, 8 and 3 bytes) and the final chunk,
// signed with testSecret from testSig.
func smallStream(t testing.TB) []byte {
	t.Helper()
	return encodeChunks(newTestChunkSigner(t, testSecret, testSig), []byte("0123456789abcdefXYZ"), 8)
}

func resign(t testing.TB, body []byte, verifySecret, verifySeed string) ([]byte, error) {
	t.Helper()
	var out bytes.Buffer
	err := ResignChunks(&out, bytes.NewReader(body), newTestChunkSigner(t, verifySecret, verifySeed), newTestChunkSigner(t, otherSecret, chunkDocSeed))
	return out.Bytes(), err
}

func TestResignChunksRejects(t *testing.T) {
	base := string(smallStream(t))
	chunks := strings.SplitAfter(base, "\r\n") // header, data, header, data, ..., final header, ""
	// chunks: [h1 d1 h2 d2 h3 d3 h0 "\r\n"]
	join := func(parts ...string) string { return strings.Join(parts, "") }
	h1, d1, h2, d2, h3, d3, h0, end := chunks[0], chunks[1], chunks[2], chunks[3], chunks[4], chunks[5], chunks[6], chunks[7]
	if join(h1, d1, h2, d2, h3, d3, h0, end) != base || end != "\r\n" || !strings.HasPrefix(h0, "0;") {
		t.Fatalf("unexpected stream layout %q", chunks)
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	sigOf := func(h string) string { _, s, _ := strings.Cut(strings.TrimSuffix(h, "\r\n"), "="); return s }
	tests := []struct {
		name   string
		body   string
		secret string
		seed   string
		want   error
	}{
		{"data changed", join(h1, flip(d1, 3), h2, d2, h3, d3, h0, end), "", "", ErrSignatureDoesNotMatch},
		{"last data changed", join(h1, d1, h2, d2, h3, flip(d3, 0), h0, end), "", "", ErrSignatureDoesNotMatch},
		{"signature changed", join(h1, d1, flip(h2, len(h2)-3), d2, h3, d3, h0, end), "", "", ErrSignatureDoesNotMatch},
		{"final signature changed", join(h1, d1, h2, d2, h3, d3, flip(h0, 20), end), "", "", ErrSignatureDoesNotMatch},
		{"chunks swapped", join(h2, d2, h1, d1, h3, d3, h0, end), "", "", ErrSignatureDoesNotMatch},
		{"chunk dropped", join(h1, d1, h3, d3, h0, end), "", "", ErrSignatureDoesNotMatch},
		{"chunk repeated", join(h1, d1, h1, d1, h2, d2, h3, d3, h0, end), "", "", ErrSignatureDoesNotMatch},
		{"final chunk dropped", join(h1, d1, h2, d2, h3, d3), "", "", ErrMalformedChunk},
		{"wrong key", base, otherSecret, "", ErrSignatureDoesNotMatch},
		{"wrong seed", base, "", chunkDocSeed, ErrSignatureDoesNotMatch},
		{"size smaller", join(strings.Replace(h1, "8;", "7;", 1), d1, h2, d2, h3, d3, h0, end), "", "", ErrMalformedChunk},
		{"size larger", join(strings.Replace(h1, "8;", "9;", 1), d1, h2, d2, h3, d3, h0, end), "", "", ErrMalformedChunk},
		{"data after final chunk", base + "x", "", "", ErrMalformedChunk},
		{"second body after final chunk", base + base, "", "", ErrMalformedChunk},
		{"trailer", join(h1, d1, h2, d2, h3, d3, h0, "x-amz-checksum-crc32:AAAAAA==\r\n", "x-amz-trailer-signature:"+testSig+"\r\n\r\n"), "", "", ErrTrailerNotSupported},
		{"unsigned chunks", "8\r\n01234567\r\n0\r\n\r\n", "", "", ErrMalformedChunk},
		{"upper-case signature", join(strings.Replace(h1, sigOf(h1), strings.ToUpper(sigOf(h1)), 1), d1, h2, d2, h3, d3, h0, end), "", "", ErrMalformedChunk},
		{"other extension", join(strings.Replace(h1, "\r\n", ";x=y\r\n", 1), d1, h2, d2, h3, d3, h0, end), "", "", ErrMalformedChunk},
		{"extension first", join(strings.Replace(h1, "8;", "8;x=y;", 1), d1, h2, d2, h3, d3, h0, end), "", "", ErrMalformedChunk},
		{"LF only after header", join(strings.Replace(h1, "\r\n", "\n", 1), d1, h2, d2, h3, d3, h0, end), "", "", ErrMalformedChunk},
		{"no CRLF after data", join(h1, strings.TrimSuffix(d1, "\r\n"), "xy", h2, d2, h3, d3, h0, end), "", "", ErrMalformedChunk},
		{"LF only after final chunk", join(h1, d1, h2, d2, h3, d3, h0, "\n"), "", "", ErrMalformedChunk},
		{"empty body", "", "", "", ErrMalformedChunk},
		{"long header line", strings.Repeat("1", 5000), "", "", ErrMalformedChunk},
		{"header line over the bound", strings.Repeat("0", 17) + ";chunk-signature=" + testSig + "\r\n\r\n", "", "", ErrMalformedChunk},
		{"size not hex", "g;chunk-signature=" + testSig + "\r\n", "", "", ErrMalformedChunk},
		{"negative size", "-1;chunk-signature=" + testSig + "\r\n", "", "", ErrMalformedChunk},
		{"empty size", ";chunk-signature=" + testSig + "\r\n", "", "", ErrMalformedChunk},
		{"space in size", " 8;chunk-signature=" + testSig + "\r\n", "", "", ErrMalformedChunk},
		{"too large", "1000001;chunk-signature=" + testSig + "\r\n", "", "", ErrChunkTooLarge},
		{"far too large", "ffffffffffffffff;chunk-signature=" + testSig + "\r\n", "", "", ErrChunkTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret, seed := testSecret, testSig
			if tt.secret != "" {
				secret = tt.secret
			}
			if tt.seed != "" {
				seed = tt.seed
			}
			out, err := resign(t, []byte(tt.body), secret, seed)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var ve *VerifyError
			if !errors.As(err, &ve) {
				t.Errorf("error %#v is not a *VerifyError", err)
			}
			if strings.Contains(err.Error(), testSig) || strings.Contains(err.Error(), sigOf(h1)) {
				t.Errorf("error %q shows a signature", err)
			}
			// Nothing forwarded may end like a complete body.
			if _, derr := decodeChunks(out); derr == nil {
				t.Errorf("a complete body was written before the error: %q", out)
			}
		})
	}
}

// TestResignChunksTruncated cuts the body at every length: each must fail as malformed,
// and the output must never be a complete body.
func TestResignChunksTruncated(t *testing.T) {
	body := smallStream(t)
	for n := range len(body) {
		out, err := resign(t, body[:n], testSecret, testSig)
		if !errors.Is(err, ErrMalformedChunk) {
			t.Fatalf("cut at %d of %d: error = %v, want ErrMalformedChunk", n, len(body), err)
		}
		if _, derr := decodeChunks(out); derr == nil {
			t.Fatalf("cut at %d: output is a complete body", n)
		}
	}
	if _, err := resign(t, body, testSecret, testSig); err != nil {
		t.Fatalf("whole body: %v", err)
	}
}

// TestResignChunksKeepsLayout: the size lines are written as received (upper-case hex,
// leading zeros), so the encoded length stays the same.
func TestResignChunksKeepsLayout(t *testing.T) {
	cs := newTestChunkSigner(t, testSecret, testSig)
	var b bytes.Buffer
	for _, c := range []struct{ size string }{{"000A"}, {"Bb"}, {"0001"}, {"0000"}} {
		n, _ := strconv.ParseUint(c.size, 16, 64)
		data := bytes.Repeat([]byte{'z'}, int(n))
		fmt.Fprintf(&b, "%s;chunk-signature=%s\r\n%s\r\n", c.size, cs.Sign(data), data)
	}
	out, err := resign(t, b.Bytes(), testSecret, testSig)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != b.Len() {
		t.Fatalf("output %d bytes, input %d", len(out), b.Len())
	}
	got, err := decodeChunks(out)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"000A", "Bb", "0001", "0000"} {
		if got[i].sizeText != want {
			t.Errorf("chunk %d size %q, want %q", i, got[i].sizeText, want)
		}
	}
}

func TestResignChunksMaxChunkSize(t *testing.T) {
	data := bytes.Repeat([]byte{'m'}, MaxChunkSize)
	body := encodeChunks(newTestChunkSigner(t, testSecret, testSig), data, MaxChunkSize)
	out, err := resign(t, body, testSecret, testSig)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(body) {
		t.Fatalf("output %d bytes, input %d", len(out), len(body))
	}
}

// TestResignChunksMemory: a chunk announced at the limit whose data never comes costs
// memory for what arrived, not for what was announced.
func TestResignChunksMemory(t *testing.T) {
	body := []byte(strconv.FormatInt(MaxChunkSize, 16) + ";chunk-signature=" + testSig + "\r\n" + strings.Repeat("x", 100))
	v, w := newTestChunkSigner(t, testSecret, testSig), newTestChunkSigner(t, otherSecret, testSig)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := ResignChunks(io.Discard, bytes.NewReader(body), v, w)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMalformedChunk) {
		t.Fatalf("error = %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("allocated %d bytes for a 100-byte chunk announced at %d", alloc, MaxChunkSize)
	}
}

// TestResignChunksStreams: a chunk is written before the next one has been sent.
func TestResignChunksStreams(t *testing.T) {
	body := smallStream(t)
	firstEnd := bytes.Index(body, []byte("\r\n8;")) + 2 // end of the first chunk
	pr, pw := io.Pipe()
	dst := &notifyWriter{wrote: make(chan struct{}, 8)}
	done := make(chan error, 1)
	go func() {
		done <- ResignChunks(dst, pr, newTestChunkSigner(t, testSecret, testSig), newTestChunkSigner(t, otherSecret, testSig))
	}()
	if _, err := pw.Write(body[:firstEnd]); err != nil {
		t.Fatal(err)
	}
	select {
	case <-dst.wrote:
	case <-time.After(5 * time.Second):
		t.Fatal("first chunk not written before the second was sent")
	}
	if _, err := pw.Write(body[firstEnd:]); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if dst.n != len(body) {
		t.Errorf("wrote %d bytes, want %d", dst.n, len(body))
	}
}

type notifyWriter struct {
	n     int
	wrote chan struct{}
}

func (w *notifyWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.wrote <- struct{}{}
	return len(p), nil
}

func TestResignChunksIOErrors(t *testing.T) {
	errRead, errWrite := errors.New("connection reset"), errors.New("pipe closed")
	body := smallStream(t)
	signers := func() (*ChunkSigner, *ChunkSigner) {
		return newTestChunkSigner(t, testSecret, testSig), newTestChunkSigner(t, otherSecret, testSig)
	}
	v, w := signers()
	src := io.MultiReader(bytes.NewReader(body[:30]), errReader{errRead})
	if err := ResignChunks(io.Discard, src, v, w); !errors.Is(err, errRead) {
		t.Errorf("read error: got %v", err)
	}
	v, w = signers()
	if err := ResignChunks(errWriter{errWrite}, bytes.NewReader(body), v, w); !errors.Is(err, errWrite) {
		t.Errorf("write error: got %v", err)
	}
	v, _ = signers()
	for name, pair := range map[string][2]*ChunkSigner{
		"nil verify": {nil, v}, "nil resign": {v, nil}, "same": {v, v}, "zero": {{}, v},
	} {
		if err := ResignChunks(io.Discard, bytes.NewReader(body), pair[0], pair[1]); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestNewChunkSignerRefuses(t *testing.T) {
	s := New(SoftwareDeriver(testSecret))
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for name, call := range map[string]func() error{
		"short seed": func() error {
			_, err := s.NewChunkSigner(ctx, testSig[1:], chunkDocTime, "us-east-1", "s3")
			return err
		},
		"upper seed": func() error {
			_, err := s.NewChunkSigner(ctx, strings.ToUpper(testSig), chunkDocTime, "us-east-1", "s3")
			return err
		},
		"region":    func() error { _, err := s.NewChunkSigner(ctx, testSig, chunkDocTime, "us/east", "s3"); return err },
		"service":   func() error { _, err := s.NewChunkSigner(ctx, testSig, chunkDocTime, "us-east-1", ""); return err },
		"zero time": func() error { _, err := s.NewChunkSigner(ctx, testSig, time.Time{}, "us-east-1", "s3"); return err },
		"no deriver": func() error {
			_, err := (&Signer{}).NewChunkSigner(ctx, testSig, chunkDocTime, "us-east-1", "s3")
			return err
		},
		"canceled": func() error {
			_, err := s.NewChunkSigner(canceled, testSig, chunkDocTime, "us-east-1", "s3")
			return err
		},
		"sign refuse": func() error {
			_, err := s.SignHTTPChunked(ctx, chunkDocRequest(t), Credentials{}, "s3", "us-east-1", chunkDocTime)
			return err
		},
	} {
		if err := call(); err == nil || !strings.HasPrefix(err.Error(), "sigv4: ") {
			t.Errorf("%s: error = %v", name, err)
		}
	}
}

func TestChunkDeriverCalls(t *testing.T) {
	ctx := context.Background()
	now := time.Now() // the cache keeps keys of dates that have not ended
	d := &countingDeriver{d: SoftwareDeriver(chunkDocSecret)}
	cached := New(d, s3Opts, func(o *Options) { o.CacheSigningKey = true })
	defer cached.Close()
	for i := range 3 {
		if _, err := cached.SignHTTPChunked(ctx, chunkDocRequest(t), Credentials{AccessKeyID: "AKID"}, "s3", "us-east-1", now); err != nil {
			t.Fatal(err)
		}
		if got := d.calls.Load(); got != 1 {
			t.Fatalf("after %d requests with the cache: %d Deriver calls, want 1", i+1, got)
		}
	}
	d.calls.Store(0)
	if _, err := New(d).NewChunkSigner(ctx, testSig, now, "us-east-1", "s3"); err != nil || d.calls.Load() != 1 {
		t.Fatalf("NewChunkSigner: %v, %d Deriver calls", err, d.calls.Load())
	}

	errDevice := errors.New("device unplugged")
	failing := New(DeriverFunc(func(context.Context, string) ([]byte, error) { return nil, errDevice }))
	if _, err := failing.SignHTTPChunked(ctx, chunkDocRequest(t), Credentials{AccessKeyID: "AKID"}, "s3", "us-east-1", now); !errors.Is(err, errDevice) {
		t.Errorf("SignHTTPChunked error = %v, want the Deriver's", err)
	}
}

func TestVerifyHTTPChunkedPayloads(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		payload string
		want    error // nil: a plain error
	}{
		{StreamingPayloadTrailer, ErrTrailerNotSupported},
		{StreamingUnsignedPayloadTrailer, ErrTrailerNotSupported},
		{UnsignedPayload, nil},
		{"", nil},
	} {
		t.Run(tt.payload, func(t *testing.T) {
			r := chunkDocRequest(t)
			if tt.payload != "" {
				r.Header.Set("X-Amz-Content-Sha256", tt.payload)
			}
			if err := New(SoftwareDeriver(testSecret), s3Opts).SignHTTP(ctx, r, tt.payload+"x", Credentials{AccessKeyID: "AKID"}, "s3", "us-east-1", chunkDocTime); err != nil {
				t.Fatal(err)
			}
			d := &countingDeriver{d: SoftwareDeriver(chunkDocSecret)}
			_, cs, err := New(d, s3Opts).VerifyHTTPChunked(ctx, r, chunkDocTime, 0)
			if err == nil || cs != nil {
				t.Fatal("accepted")
			}
			var ve *VerifyError
			if tt.want != nil && !errors.Is(err, tt.want) || tt.want == nil && errors.As(err, &ve) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			if d.calls.Load() != 0 {
				t.Error("the Deriver was called")
			}
		})
	}

	// A streaming request signed with another key.
	r := chunkDocRequest(t)
	if _, err := New(SoftwareDeriver(otherSecret), s3Opts).SignHTTPChunked(ctx, r, Credentials{AccessKeyID: "AKID"}, "s3", "us-east-1", chunkDocTime); err != nil {
		t.Fatal(err)
	}
	if _, _, err := New(SoftwareDeriver(testSecret), s3Opts).VerifyHTTPChunked(ctx, r, chunkDocTime, 0); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("other key: error = %v", err)
	}
}

// TestChunkedProxy runs the whole path over real servers on 127.0.0.1: a client uploads
// signed chunks with the local key to a proxy, which verifies them and streams them
// re-signed with the device key to an S3 stand-in that verifies the device signatures.
func TestChunkedProxy(t *testing.T) {
	const localID, localSecret = "AKIDLOCAL", "local/secret+of+the+proxy"
	const deviceID, deviceSecret = "AKIDDEVICE", "device/secret+in+hardware"
	data := make([]byte, 200<<10+123)
	for i := range data {
		data[i] = byte(i * 7)
	}
	now := time.Now()

	s3Got := make(chan []byte, 1)
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, verify, err := New(SoftwareDeriver(deviceSecret), s3Opts).VerifyHTTPChunked(r.Context(), r, time.Now(), 0)
		if err == nil {
			err = auth.CheckAccessKeyID(deviceID)
		}
		if err != nil {
			http.Error(w, "s3: "+err.Error(), http.StatusForbidden)
			return
		}
		var decoded bytes.Buffer
		dec := &chunkDataWriter{w: &decoded}
		if err := ResignChunks(dec, r.Body, verify, newTestChunkSigner(t, "any", testSig)); err != nil {
			http.Error(w, "s3: "+err.Error(), http.StatusBadRequest)
			return
		}
		if strconv.Itoa(decoded.Len()) != r.Header.Get("X-Amz-Decoded-Content-Length") {
			http.Error(w, "s3: decoded length", http.StatusBadRequest)
			return
		}
		s3Got <- decoded.Bytes()
	}))
	defer s3.Close()

	device := New(SoftwareDeriver(deviceSecret), s3Opts)
	local := New(SoftwareDeriver(localSecret), s3Opts)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth, verify, err := local.VerifyHTTPChunked(r.Context(), r, time.Now(), 0)
		if err == nil {
			err = auth.CheckAccessKeyID(localID)
		}
		if err != nil {
			http.Error(w, "proxy: "+err.Error(), http.StatusForbidden)
			return
		}
		pr, pw := io.Pipe()
		out, err := http.NewRequestWithContext(r.Context(), r.Method, s3.URL+r.RequestURI, pr)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for _, h := range []string{"Content-Encoding", "X-Amz-Decoded-Content-Length", "Content-Type"} {
			if v := r.Header.Values(h); len(v) > 0 {
				out.Header[h] = v
			}
		}
		out.ContentLength = r.ContentLength
		resign, err := device.SignHTTPChunked(r.Context(), out, Credentials{AccessKeyID: deviceID}, auth.Service, auth.Region, time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		go func() { pw.CloseWithError(ResignChunks(pw, r.Body, verify, resign)) }()
		resp, err := s3.Client().Do(out)
		if err != nil {
			http.Error(w, "proxy: forward: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()

	upload := func(tamper func([]byte)) (int, string) {
		body := func() []byte {
			r, err := http.NewRequest(http.MethodPut, proxy.URL+"/bucket/dir/file name+1.bin", nil)
			if err != nil {
				t.Fatal(err)
			}
			r.URL.RawPath = "/bucket/dir/file%20name%2B1.bin"
			chunkSize := 64 << 10
			encodedLen := 0
			for n := len(data); n > 0; n -= min(n, chunkSize) {
				encodedLen += len(strconv.FormatInt(int64(min(n, chunkSize)), 16)) + len(chunkSigExt) + 64 + 2 + min(n, chunkSize) + 2
			}
			encodedLen += 1 + len(chunkSigExt) + 64 + 4
			r.ContentLength = int64(encodedLen)
			r.Header.Set("Content-Encoding", "aws-chunked")
			r.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
			r.Header.Set("Content-Type", "application/octet-stream")
			cs, err := local.SignHTTPChunked(context.Background(), r, Credentials{AccessKeyID: localID}, "s3", "us-east-1", now)
			if err != nil {
				t.Fatal(err)
			}
			body := encodeChunks(cs, data, chunkSize)
			if len(body) != encodedLen {
				t.Fatalf("encoded %d bytes, computed %d", len(body), encodedLen)
			}
			if tamper != nil {
				tamper(body)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			resp, err := proxy.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			msg, _ := io.ReadAll(resp.Body)
			return []byte(strconv.Itoa(resp.StatusCode) + " " + string(msg))
		}()
		code, msg, _ := strings.Cut(string(body), " ")
		n, _ := strconv.Atoi(code)
		return n, msg
	}

	if code, msg := upload(nil); code != http.StatusOK {
		t.Fatalf("upload: %d %s", code, msg)
	}
	select {
	case got := <-s3Got:
		if !bytes.Equal(got, data) {
			t.Fatal("S3 stand-in received other data")
		}
	default:
		t.Fatal("S3 stand-in received nothing")
	}

	// A chunk changed on the way to the proxy: the proxy must not let it through.
	code, msg := upload(func(b []byte) { b[len(b)/2] ^= 1 })
	if code == http.StatusOK {
		t.Fatalf("tampered upload: %d %s", code, msg)
	}
	select {
	case <-s3Got:
		t.Fatal("S3 stand-in accepted a tampered upload")
	default:
	}
}

// chunkDataWriter decodes the aws-chunked output of ResignChunks, which writes one whole
// chunk per Write, into its data.
type chunkDataWriter struct{ w io.Writer }

func (c *chunkDataWriter) Write(p []byte) (int, error) {
	chunks, err := decodeChunks(p)
	if err != nil {
		// Not the final chunk: one chunk without the end.
		chunks, err = decodeChunks(append(append([]byte(nil), p...), []byte("0;chunk-signature="+testSig+"\r\n\r\n")...))
		if err != nil {
			return 0, err
		}
	}
	for _, ch := range chunks {
		c.w.Write(ch.data)
	}
	return len(p), nil
}

func BenchmarkResignChunks(b *testing.B) {
	data := make([]byte, 1<<20)
	body := encodeChunks(newTestChunkSigner(b, testSecret, testSig), data, 64<<10)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := ResignChunks(io.Discard, bytes.NewReader(body), newTestChunkSigner(b, testSecret, testSig), newTestChunkSigner(b, otherSecret, testSig)); err != nil {
			b.Fatal(err)
		}
	}
}
