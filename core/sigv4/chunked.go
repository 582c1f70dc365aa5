package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Signed chunks: "Signature Calculations for the Authorization Header: Transferring Payload
// in Multiple Chunks (Chunked Upload) (AWS Signature Version 4)" in the Amazon S3 API
// Reference. The body is sent aws-chunked:
//
//	hex-size;chunk-signature=<64 hex>\r\n<size bytes>\r\n ... 0;chunk-signature=<64 hex>\r\n\r\n
//
// and each chunk's signature chains from the previous one, the first from the signature of
// the request's Authorization header (the seed).

// Payload hashes (X-Amz-Content-Sha256) of aws-chunked bodies.
const (
	// StreamingPayload marks a body of signed chunks without trailing headers; the only
	// streaming form this package signs and verifies.
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer marks signed chunks followed by trailing headers (a
	// checksum) and a trailer signature. Not supported: [ErrTrailerNotSupported].
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedPayloadTrailer marks unsigned chunks followed by a trailing
	// checksum, what recent AWS SDKs send by default for S3 uploads. Not supported:
	// [ErrTrailerNotSupported].
	StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

// MaxChunkSize is the largest chunk [ResignChunks] accepts. S3 wants chunks of at least
// 8 KiB except the last and SDKs send 64 KiB to 1 MiB; the bound keeps a proxy's memory
// per request at one chunk of at most this size.
const MaxChunkSize = 16 << 20

const (
	chunkAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD" // first line of a chunk's string to sign
	chunkSigExt    = ";chunk-signature="
	// maxChunkHeader bounds a chunk header line: 16 hex digits, the extension, the
	// signature and CRLF.
	maxChunkHeader = 16 + len(chunkSigExt) + 64 + 2
)

// ChunkSigner computes the chained chunk signatures of one aws-chunked body. Its string to
// sign for a chunk is
//
//	AWS4-HMAC-SHA256-PAYLOAD\n<X-Amz-Date>\n<scope>\n<previous signature>\n<hex SHA-256 of "">\n<hex SHA-256 of chunk>
//
// with the request's header signature as the first previous signature. It holds kSigning
// for the request's scope, not kDate. A ChunkSigner follows one body from its first chunk
// to its final empty one and is not safe for concurrent use.
type ChunkSigner struct {
	mac    hash.Hash // HMAC-SHA256 keyed with kSigning
	prefix string    // first three lines of the string to sign, with their "\n"
	prev   string    // previous signature, hex
}

// newChunkSigner keys the HMAC with kSigning and zeroes key, which the HMAC has copied.
func newChunkSigner(key []byte, sc scope, seed string) *ChunkSigner {
	c := &ChunkSigner{
		mac:    hmac.New(sha256.New, key),
		prefix: chunkAlgorithm + "\n" + sc.amzDate + "\n" + sc.String() + "\n",
		prev:   seed,
	}
	clear(key)
	return c
}

// NewChunkSigner returns a ChunkSigner for a body whose request was signed at amzDate
// (the request's X-Amz-Date) for region and service, with the header signature
// seedSignature. It derives kSigning as [Signer.SignHTTP] does: one Deriver call, none when
// [Options.CacheSigningKey] finds the key cached. optFns override the Signer's options.
//
// To sign or verify a request and its chunks with a single Deriver call whatever the
// cache, use [Signer.SignHTTPChunked] and [Signer.VerifyHTTPChunked].
func (s *Signer) NewChunkSigner(ctx context.Context, seedSignature string, amzDate time.Time, region, service string, optFns ...func(*Options)) (*ChunkSigner, error) {
	switch {
	case !validHexSignature(seedSignature):
		return nil, errors.New("sigv4: chunk signer: the seed signature is not 64 lower-case hex digits")
	case !validScopePart(region):
		return nil, fmt.Errorf("sigv4: chunk signer: invalid region %q", region)
	case !validScopePart(service):
		return nil, fmt.Errorf("sigv4: chunk signer: invalid service name %q", service)
	case amzDate.IsZero():
		return nil, errors.New("sigv4: chunk signer: signing time is not set")
	case s.deriver == nil:
		return nil, errors.New("sigv4: signer has no deriver: create it with sigv4.New")
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("sigv4: chunk signer: %w", err)
	}
	sc := newScope(amzDate, region, service)
	key, err := s.signingKey(ctx, sc, s.resolve(optFns).CacheSigningKey)
	if err != nil {
		return nil, err
	}
	return newChunkSigner(key, sc, seedSignature), nil
}

// Sign returns the signature of the next chunk, chunk being its data; the final chunk is
// empty.
func (c *ChunkSigner) Sign(chunk []byte) string {
	return c.signSum(sha256.Sum256(chunk))
}

// signSum signs the next chunk given the SHA-256 of its data, so that ResignChunks hashes
// each chunk once for both of its ChunkSigners.
func (c *ChunkSigner) signSum(sum [sha256.Size]byte) string {
	c.mac.Reset()
	var b [2 * sha256.Size]byte
	hex.Encode(b[:], sum[:])
	io.WriteString(c.mac, c.prefix)
	io.WriteString(c.mac, c.prev)
	io.WriteString(c.mac, "\n"+EmptyPayloadHash+"\n")
	c.mac.Write(b[:])
	c.prev = hex.EncodeToString(c.mac.Sum(nil))
	return c.prev
}

// SignHTTPChunked signs r like [Signer.SignHTTP] for a body sent as signed chunks: the
// payload hash is [StreamingPayload], which it also sets and signs as X-Amz-Content-Sha256.
// The caller sets Content-Encoding: aws-chunked, X-Amz-Decoded-Content-Length and the
// encoded length (r.ContentLength) before, so that they are signed, and then sends the
// body as chunks signed with the returned ChunkSigner. S3 also wants
// [Options.DisableURIPathEscaping].
//
// The header signature and the chunk signatures share one kSigning: one Deriver call per
// request, none when the cache has the key.
func (s *Signer) SignHTTPChunked(ctx context.Context, r *http.Request, creds Credentials, service, region string, t time.Time, optFns ...func(*Options)) (*ChunkSigner, error) {
	opts := s.resolve(optFns)
	opts.AddContentSHA256Header = true
	signer := s
	if !opts.CacheSigningKey {
		// A signer for this call only whose Deriver answers the second request for the
		// same date from the first, so the ChunkSigner does not cost a device round trip.
		d := &onceDeriver{d: s.deriver}
		defer d.clear()
		signer = New(d)
		defer signer.Close()
	}
	setOpts := func(o *Options) { *o = opts }
	if err := signer.SignHTTP(ctx, r, StreamingPayload, creds, service, region, t, setOpts); err != nil {
		return nil, err
	}
	auth, err := ParseAuthorization(r.Header.Get(headerAuthorization))
	if err != nil {
		return nil, fmt.Errorf("sigv4: sign chunked request: read back the signature: %w", err)
	}
	return signer.NewChunkSigner(ctx, auth.Signature, t, region, service, setOpts)
}

// onceDeriver passes the first call to d and answers later calls for the same date with
// the same kDate, for the length of one SignHTTPChunked call.
type onceDeriver struct {
	d     Deriver
	mu    sync.Mutex
	date  string
	kDate []byte
}

func (o *onceDeriver) DeriveDateKey(ctx context.Context, date string) ([]byte, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.kDate != nil && o.date == date {
		return bytes.Clone(o.kDate), nil
	}
	k, err := o.d.DeriveDateKey(ctx, date)
	if err != nil {
		return nil, err
	}
	o.date, o.kDate = date, bytes.Clone(k)
	return k, nil
}

// clear wipes the remembered kDate; kDate is never kept beyond the request.
func (o *onceDeriver) clear() {
	o.mu.Lock()
	defer o.mu.Unlock()
	clear(o.kDate)
	o.kDate = nil
}

// VerifyHTTPChunked verifies a request whose body is signed chunks, like
// [Signer.VerifyHTTP] with payload hash [StreamingPayload], and returns a ChunkSigner
// seeded with the verified signature, for [ResignChunks] to check the chunks. The header
// and the chunks share one Deriver call.
//
// X-Amz-Content-Sha256 must be [StreamingPayload]; the trailer variants fail with
// [ErrTrailerNotSupported], anything else with a plain error (call VerifyHTTP instead).
func (s *Signer) VerifyHTTPChunked(ctx context.Context, r *http.Request, now time.Time, maxSkew time.Duration, optFns ...func(*Options)) (Authorization, *ChunkSigner, error) {
	if r == nil || r.URL == nil {
		return Authorization{}, nil, errors.New("sigv4: verify: no request or request URL")
	}
	switch ph := foldHeader(r.Header)["x-amz-content-sha256"]; {
	case len(ph) == 1 && ph[0] == StreamingPayload:
	case len(ph) == 1 && (ph[0] == StreamingPayloadTrailer || ph[0] == StreamingUnsignedPayloadTrailer):
		return Authorization{}, nil, verifyErr(ErrTrailerNotSupported, "X-Amz-Content-Sha256 is %s: the proxy does not re-sign trailing checksums", ph[0])
	default:
		return Authorization{}, nil, fmt.Errorf("sigv4: verify chunked request: X-Amz-Content-Sha256 is not %s", StreamingPayload)
	}
	v, err := s.verify(ctx, r, StreamingPayload, now, maxSkew, s.resolve(optFns))
	if err != nil {
		return v.auth, nil, err
	}
	return v.auth, newChunkSigner(v.key, v.sc, v.auth.Signature), nil
}

// ResignChunks reads an aws-chunked body of signed chunks from src, checks each chunk's
// signature with verify (constant-time) and writes the chunk to dst signed with resign
// instead. It returns nil after the final, empty chunk, when src has ended.
//
// The output has the same length as the input: each chunk keeps its size line as written
// and a signature has 64 hex digits whatever the key, so Content-Length and
// X-Amz-Decoded-Content-Length of the request stay valid.
//
// It streams: it holds one chunk at a time, at most [MaxChunkSize] (larger chunks fail
// with [ErrChunkTooLarge]), and writes a chunk only after its signature has been checked.
// The final chunk is written last, after src has been seen to end, so on any error dst
// has received a body without its end, which the receiving service rejects; still, abort
// the forwarded request (io.Pipe's CloseWithError):
//
//	pr, pw := io.Pipe()
//	go func() { pw.CloseWithError(sigv4.ResignChunks(pw, r.Body, verify, resign)) }()
//
// A malformed or truncated body fails with [ErrMalformedChunk], a chunk that does not
// match its signature with [ErrSignatureDoesNotMatch], trailing headers with
// [ErrTrailerNotSupported]; errors of src and dst are returned wrapped. verify and resign
// must be two ChunkSigners, seeded with the incoming and the outgoing header signature,
// and are used up by the call.
func ResignChunks(dst io.Writer, src io.Reader, verify, resign *ChunkSigner) error {
	if verify == nil || resign == nil || verify.mac == nil || resign.mac == nil || verify == resign {
		return errors.New("sigv4: resign chunks: need two ChunkSigners, one to verify and one to re-sign")
	}
	br := bufio.NewReaderSize(src, 4096)
	var buf []byte // chunk header space, data, CRLF
	var offset int64
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		switch {
		case err == bufio.ErrBufferFull || err == nil && len(line) > maxChunkHeader:
			return verifyErr(ErrMalformedChunk, "chunk %d at byte %d: header line longer than %d bytes", n, offset, maxChunkHeader)
		case err == io.EOF:
			return verifyErr(ErrMalformedChunk, "body ends before chunk %d at byte %d (no final empty chunk)", n, offset)
		case err != nil:
			return fmt.Errorf("sigv4: read chunk %d: %w", n, err)
		}
		sizeText, sig, err := parseChunkHeader(line)
		if err != nil {
			return verifyErr(ErrMalformedChunk, "chunk %d at byte %d: %v", n, offset, err)
		}
		size, err := strconv.ParseUint(sizeText, 16, 64)
		if err != nil || size > MaxChunkSize {
			return verifyErr(ErrChunkTooLarge, "chunk %d at byte %d: size 0x%s is over the %d MiB limit", n, offset, sizeText, MaxChunkSize>>20)
		}

		head := len(line)
		buf, err = readChunkData(br, buf, head, int(size))
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return verifyErr(ErrMalformedChunk, "body ends inside chunk %d at byte %d", n, offset)
		case err != nil:
			return fmt.Errorf("sigv4: read chunk %d: %w", n, err)
		}
		// The chunk ends with CRLF; after the final chunk trailing headers would come
		// instead.
		end, err := br.ReadSlice('\n')
		switch {
		case err == nil && string(end) == "\r\n":
		case size == 0 && bytes.IndexByte(end, ':') > 0:
			return verifyErr(ErrTrailerNotSupported, "the body has trailing headers after its final chunk: the proxy does not re-sign trailing checksums")
		case err == io.EOF:
			return verifyErr(ErrMalformedChunk, "body ends inside chunk %d at byte %d", n, offset)
		case err == nil || err == bufio.ErrBufferFull:
			return verifyErr(ErrMalformedChunk, "chunk %d at byte %d: data is not followed by CRLF", n, offset)
		default:
			return fmt.Errorf("sigv4: read chunk %d: %w", n, err)
		}
		// The signature is checked after the framing, so that a wrong size reads as a
		// malformed body rather than as a bad signature.
		sum := sha256.Sum256(buf[head : head+int(size)])
		if want := verify.signSum(sum); !hmac.Equal([]byte(want), []byte(sig)) {
			return verifyErr(ErrSignatureDoesNotMatch, "chunk %d at byte %d: the chunk signature was not computed over this chunk with this key", n, offset)
		}
		if size == 0 {
			if _, err := br.ReadByte(); err != io.EOF {
				if err == nil {
					return verifyErr(ErrMalformedChunk, "data after the final chunk")
				}
				return fmt.Errorf("sigv4: read after the final chunk: %w", err)
			}
		}

		copy(buf, sizeText)
		copy(buf[len(sizeText):], chunkSigExt)
		copy(buf[len(sizeText)+len(chunkSigExt):], resign.signSum(sum))
		copy(buf[head-2:], "\r\n")
		copy(buf[head+int(size):], "\r\n")
		if _, err := dst.Write(buf); err != nil {
			return fmt.Errorf("sigv4: write chunk %d: %w", n, err)
		}
		if size == 0 {
			return nil
		}
		offset += int64(len(buf))
	}
}

// parseChunkHeader splits "hex-size;chunk-signature=<64 hex>\r\n". Nothing else is
// accepted: other chunk extensions, a bare size (unsigned chunks) or upper-case hex in the
// signature would be re-signed into a different-looking body.
func parseChunkHeader(line []byte) (sizeText, sig string, err error) {
	l, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return "", "", errors.New("header line does not end with CRLF")
	}
	sizeText, sig, ok = strings.Cut(l, chunkSigExt)
	if !ok {
		return "", "", errors.New("header is not hex-size;chunk-signature=signature (unsigned chunks are not re-signed)")
	}
	if sizeText == "" || len(sizeText) > 16 || strings.Trim(sizeText, "0123456789abcdefABCDEF") != "" {
		return "", "", errors.New("chunk size is not 1 to 16 hex digits")
	}
	if !validHexSignature(sig) {
		return "", "", errors.New("chunk-signature is not 64 lower-case hex digits")
	}
	return sizeText, sig, nil
}

// readChunkData reads size bytes into buf[head:head+size] and makes room for the chunk
// header before and CRLF after, reusing buf. It grows buf as data arrives rather than to
// the announced size, so that a client announcing large chunks and sending nothing costs
// little memory.
func readChunkData(r io.Reader, buf []byte, head, size int) ([]byte, error) {
	const step = 64 << 10
	if cap(buf) < head+2 {
		buf = make([]byte, 0, head+min(size, step)+2)
	}
	buf = buf[:head]
	for remaining := size; remaining > 0; {
		n := min(remaining, step)
		if cap(buf)-len(buf) < n {
			nb := make([]byte, len(buf), min(max(2*cap(buf), len(buf)+n), head+size+2))
			copy(nb, buf)
			buf = nb
		}
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+n])
		buf = buf[:len(buf)+got]
		if err != nil {
			return buf, err
		}
		remaining -= n
	}
	if cap(buf)-len(buf) < 2 {
		nb := make([]byte, len(buf), len(buf)+2)
		copy(nb, buf)
		buf = nb
	}
	return buf[:len(buf)+2], nil
}
