package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/awskeep/awskeep/core/devicesign"
	"github.com/awskeep/awskeep/core/engine"
	"github.com/awskeep/awskeep/core/miniotest"
	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/pluginhost"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
)

// TestDirectSign is the acceptance test of package devicesign, the Go API: aws-sdk-go-v2
// clients signing with a key on a SoftHSM2 token through the real pkcs11 plugin
// subprocess, against moto (header-signed requests, STS, IAM, S3) and MinIO (presigned
// URLs, which moto cannot verify).
func TestDirectSign(t *testing.T) {
	u := newUser(t)
	u.importKey("alice", world.alice.SecretAccessKey)
	// The plugin is a subprocess whose environment is the test process's (filtered by
	// package plugins), not Options.Getenv: SoftHSM finds its token through it.
	t.Setenv(softhsmtest.ConfEnv, u.softhsm.ConfPath)
	logger, logs := bufferLogger()
	open := func(t *testing.T, object, accessKeyID string, optFns ...func(*devicesign.Options)) *devicesign.Key {
		t.Helper()
		opts := u.deviceOptions(object, accessKeyID)
		opts.Logger = logger
		for _, fn := range optFns {
			fn(&opts)
		}
		k, err := devicesign.Open(context.Background(), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { k.Close() })
		return k
	}

	t.Run("apply signs every call with the device and calls no STS", func(t *testing.T) {
		rec := startCallRecorder(t, world.server.URL)
		// STS of the Key too goes through the recorder: it sees every call to moto.
		key := open(t, "alice", world.alice.AccessKeyID, func(o *devicesign.Options) { o.Settings.EndpointURL = rec.URL })
		cfg := aws.Config{BaseEndpoint: aws.String(rec.URL)}
		key.Apply(&cfg)
		if arn := useServices(t, cfg, "directsign-apply"); arn != world.alice.ARN {
			t.Fatalf("GetCallerIdentity says %s, want alice (%s)", arn, world.alice.ARN)
		}
		calls := rec.recorded()
		checkServiceCalls(t, calls)
		if n := countActions(calls, isTemporaryCredentialsCall); n != 0 {
			t.Fatalf("%d STS credential calls with Apply, want none:\n%v", n, calls)
		}
		for _, c := range calls {
			if c.AccessKeyID != world.alice.AccessKeyID {
				t.Fatalf("%v was signed as %q, want alice's key %s", c, c.AccessKeyID, world.alice.AccessKeyID)
			}
		}
		// One device HMAC per (date, region, service): sts, iam and s3 on one date.
		scopes := distinctScopes(calls)
		ops := key.DeviceOperations()
		t.Logf("%d requests, scopes %v, %d device operations", len(calls), scopes, ops)
		if ops != int64(len(scopes)) || len(scopes) != 3*len(distinctDates(calls)) {
			t.Fatalf("%d device operations for %d requests in scopes %v, want one per scope (3)", ops, len(calls), scopes)
		}
	})

	t.Run("apply without the signing-key cache costs one device operation per request", func(t *testing.T) {
		rec := startCallRecorder(t, world.server.URL)
		key := open(t, "alice", world.alice.AccessKeyID, func(o *devicesign.Options) {
			o.NoSigningKeyCache = true
			o.Settings.EndpointURL = rec.URL
		})
		cfg := aws.Config{BaseEndpoint: aws.String(rec.URL)}
		key.Apply(&cfg)
		useServices(t, cfg, "directsign-nocache")
		calls := rec.recorded()
		checkServiceCalls(t, calls)
		if n := countActions(calls, isTemporaryCredentialsCall); n != 0 {
			t.Fatalf("%d STS credential calls with Apply, want none:\n%v", n, calls)
		}
		ops := key.DeviceOperations()
		t.Logf("%d requests, %d device operations", len(calls), ops)
		if ops != int64(len(calls)) {
			t.Fatalf("%d device operations for %d signed requests without the cache, want one each", ops, len(calls))
		}
	})

	t.Run("credentials provider assumes the role once", func(t *testing.T) {
		rec := startCallRecorder(t, world.server.URL)
		key := open(t, "alice", world.alice.AccessKeyID, func(o *devicesign.Options) {
			o.Settings.RoleARN = world.roleARN
			o.Settings.EndpointURL = rec.URL
		})
		cfg := aws.Config{
			Region:       key.Region(),
			BaseEndpoint: aws.String(rec.URL),
			Credentials:  aws.NewCredentialsCache(key.CredentialsProvider()),
		}
		arn := useServices(t, cfg, "directsign-role")
		if !strings.HasPrefix(arn, assumedRole("deployer", "")) {
			t.Fatalf("GetCallerIdentity says %s, want a session of the deployer role", arn)
		}
		calls := rec.recorded()
		checkServiceCalls(t, calls)
		if n := countActions(calls, func(a string) bool { return a == "AssumeRole" }); n != 1 {
			t.Fatalf("%d AssumeRole calls, want exactly 1:\n%v", n, calls)
		}
		if n := countActions(calls, isTemporaryCredentialsCall); n != 1 {
			t.Fatalf("%d STS credential calls, want only the AssumeRole:\n%v", n, calls)
		}
		for _, c := range calls {
			if signedByAlice := c.AccessKeyID == world.alice.AccessKeyID; signedByAlice != (c.Action == "AssumeRole") {
				t.Fatalf("%v was signed as %s: want alice's key for AssumeRole only, the role's elsewhere", c, c.AccessKeyID)
			}
		}
		// The device signed the AssumeRole and nothing else: the role's credentials
		// signed the rest in software.
		if ops := key.DeviceOperations(); ops != 1 {
			t.Fatalf("%d device operations for %d requests, want 1 (the AssumeRole)", ops, len(calls))
		}
	})

	// One MinIO for the presign subtests, started by the first and stopped with the test.
	var mio *miniotest.Server
	parent := t
	presignKey := func(t *testing.T) *devicesign.Key {
		t.Helper()
		if mio == nil {
			mio = miniotest.Start(parent)
			u.secrets = append(u.secrets, mio.SecretAccessKey)
			u.importKey("minio", mio.SecretAccessKey)
		}
		return open(t, "minio", mio.AccessKeyID)
	}
	ctx := context.Background()

	t.Run("presigned URLs fetched with curl against MinIO", func(t *testing.T) {
		curlBinary(t)
		key := presignKey(t)
		const bucket = "presign"
		body := []byte("hello from minio, presigned by the device\n")
		if err := mio.CreateBucket(ctx, bucket); err != nil {
			t.Fatal(err)
		}
		if err := mio.PutObject(ctx, bucket, "hello.txt", body); err != nil {
			t.Fatal(err)
		}
		presign := func(method, object string, at time.Time, expires time.Duration) string {
			t.Helper()
			r, err := http.NewRequest(method, mio.URL+"/"+bucket+"/"+object, nil)
			if err != nil {
				t.Fatal(err)
			}
			signed, header, err := key.Presign(ctx, r, sigv4.UnsignedPayload, "s3", miniotest.Region, at, expires,
				func(o *sigv4.Options) { o.DisableURIPathEscaping = true })
			if err != nil {
				t.Fatal(err)
			}
			if names := slices.Collect(maps.Keys(header)); len(names) != 1 || names[0] != "Host" {
				t.Fatalf("presigned %s needs headers %v, want only Host", method, names)
			}
			return signed
		}

		status, got := fetchWithCurl(t, presign(http.MethodGet, "hello.txt", time.Now(), 10*time.Minute))
		if status != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("presigned GET: HTTP %d %q, want 200 %q", status, got, body)
		}

		// The signature covers the path: the same query for another object is refused.
		url := presign(http.MethodGet, "hello.txt", time.Now(), 10*time.Minute)
		status, got = fetchWithCurl(t, strings.Replace(url, "/hello.txt?", "/other.txt?", 1))
		if status != http.StatusForbidden || !bytes.Contains(got, []byte("SignatureDoesNotMatch")) {
			t.Fatalf("presigned GET for another key: HTTP %d %s, want 403 SignatureDoesNotMatch", status, got)
		}

		upload := make([]byte, 256<<10)
		if _, err := rand.Read(upload); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "upload.bin")
		if err := os.WriteFile(file, upload, 0o600); err != nil {
			t.Fatal(err)
		}
		status, got = fetchWithCurl(t, "--upload-file", file, presign(http.MethodPut, "uploaded.bin", time.Now(), 10*time.Minute))
		if status != http.StatusOK {
			t.Fatalf("presigned PUT with curl -T: HTTP %d %s", status, got)
		}
		status, got = fetchWithCurl(t, presign(http.MethodGet, "uploaded.bin", time.Now(), 10*time.Minute))
		if status != http.StatusOK || !bytes.Equal(got, upload) {
			t.Fatalf("presigned GET of the uploaded object: HTTP %d, %d bytes, want 200 and the %d bytes uploaded", status, len(got), len(upload))
		}

		status, got = fetchWithCurl(t, presign(http.MethodGet, "hello.txt", time.Now().Add(-2*time.Hour), time.Hour))
		if status != http.StatusForbidden || !bytes.Contains(got, []byte("AccessDenied")) || !bytes.Contains(got, []byte("expired")) {
			t.Fatalf("expired presigned GET: HTTP %d %s, want 403 AccessDenied, expired", status, got)
		}
		t.Logf("presigned 5 URLs, %d device operations", key.DeviceOperations())
	})

	t.Run("SDK presign client and header-signed S3 calls against MinIO", func(t *testing.T) {
		key := presignKey(t)
		// The SDK's default checksums (CRC32 of each upload), as config.LoadDefaultConfig sets.
		cfg := aws.Config{RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported}
		key.Apply(&cfg)
		client := s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint = aws.String(mio.URL)
			o.UsePathStyle = true
		})
		const bucket = "sdk-presign"
		body := []byte("put by the SDK, signed by the device\n")
		// MinIO verifies header-signed requests too, with the SDK's default checksums.
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("sdk.txt"), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
		presigner := s3.NewPresignClient(client, func(o *s3.PresignOptions) { o.Presigner = key.Signer() })
		req, err := presigner.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("sdk.txt")},
			s3.WithPresignExpires(5*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(req.URL, "X-Amz-Credential="+mio.AccessKeyID+"%2F") || !strings.Contains(req.URL, "X-Amz-Expires=300") {
			t.Fatalf("presigned URL %s: want the MinIO key's credential and X-Amz-Expires=300", req.URL)
		}
		get, err := http.NewRequest(req.Method, req.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		for name, values := range req.SignedHeader {
			if !strings.EqualFold(name, "Host") {
				get.Header[name] = values
			}
		}
		resp, err := http.DefaultClient.Do(get)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("GET of the SDK-presigned URL: HTTP %d %q, want 200 %q", resp.StatusCode, got, body)
		}
	})

	t.Run("no secret in errors or logs", func(t *testing.T) {
		// Refusals: a wrong PIN, an object the token does not have, a device holding
		// another secret (moto says SignatureDoesNotMatch).
		var errs []error
		wrongPIN := "9999-not-the-pin"
		opts := u.deviceOptions("alice", world.alice.AccessKeyID)
		opts.Logger = logger
		opts.Settings.Key = u.token.KeyURI("alice") + "&pin-value=" + wrongPIN
		if _, err := devicesign.Open(ctx, opts); err == nil {
			t.Fatal("Open with a wrong PIN succeeded")
		} else {
			errs = append(errs, err)
		}
		opts = u.deviceOptions("missing", world.alice.AccessKeyID)
		opts.Logger = logger
		if _, err := devicesign.Open(ctx, opts); err == nil {
			t.Fatal("Open of a missing object succeeded")
		} else {
			errs = append(errs, err)
		}
		u.importKey("mallory-secret", world.mallory.SecretAccessKey)
		wrong := open(t, "mallory-secret", world.alice.AccessKeyID)
		cfg := aws.Config{BaseEndpoint: aws.String(world.server.URL)}
		wrong.Apply(&cfg)
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err == nil {
			t.Fatal("a device with mallory's secret signed as alice and moto accepted it")
		} else {
			errs = append(errs, err)
		}

		// The SDK's own signing log, which devicesign feeds with the canonical request.
		var sdkLog lockedBuffer
		key := open(t, "alice", world.alice.AccessKeyID)
		cfg = aws.Config{
			BaseEndpoint:  aws.String(world.server.URL),
			Logger:        logging.NewStandardLogger(&sdkLog),
			ClientLogMode: aws.LogSigning | aws.LogRequest | aws.LogResponse,
		}
		key.Apply(&cfg)
		if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sdkLog.String(), "CANONICAL STRING") {
			t.Fatalf("the SDK's LogSigning shows no canonical request:\n%s", sdkLog.String())
		}

		secrets := append(slices.Clone(u.secrets), wrongPIN)
		for _, err := range errs {
			t.Logf("error: %v", err)
			u.checkNoSecrets(err.Error(), secrets, "an error of devicesign")
		}
		if logs.String() == "" {
			t.Fatal("the Logger received nothing: the check below would prove nothing")
		}
		u.checkNoSecrets(logs.String(), secrets, "the devicesign Logger")
		u.checkNoSecrets(sdkLog.String(), secrets, "the SDK's signing log")
	})

	t.Run("close ends the plugins", func(t *testing.T) {
		// Every Key above closed in its subtest's Cleanup; Open's failures closed theirs.
		// A moment for the kernel to reap them, as in noPluginLeft.
		var left []int
		for range 50 {
			if left = childPlugins(t, os.Getpid()); len(left) == 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("plugin processes %v still run after every Key was closed", left)
	})
}

// deviceOptions are the devicesign options for object on the user's token, signing as
// accessKeyID in us-east-1 with STS at moto, without a terminal.
func (u *user) deviceOptions(object, accessKeyID string) devicesign.Options {
	getenv := getenvOf(u.environ())
	return devicesign.Options{
		Settings: engine.Settings{
			Key:         u.keyURI(object),
			AccessKeyID: accessKeyID,
			Region:      mototest.Region,
			EndpointURL: world.server.URL, // STS only
		},
		Plugins:  pluginhost.Options{Dir: pluginDir, Getenv: getenv},
		Getenv:   getenv,
		NoPrompt: true,
	}
}

// Sizes of the S3 uploads: a 20 MB single PUT and a multipart upload of two 5 MiB parts
// (S3's smallest non-final part) and a small last part.
const (
	bigObjectSize = 20_000_000
	partSize      = 5 << 20
	lastPartSize  = 1000
)

// useServices makes the calls an application makes with clients built from cfg (moto at
// cfg.BaseEndpoint serves every service on one port): STS GetCallerIdentity, IAM ListUsers,
// S3 CreateBucket, PutObject, GetObject, ListObjectsV2 and a multipart upload, checking
// each answer. It returns the caller's ARN.
func useServices(t *testing.T, cfg aws.Config, bucket string) string {
	t.Helper()
	ctx := context.Background()
	if cfg.Region == "" {
		cfg.Region = mototest.Region
	}
	// What config.LoadDefaultConfig sets; a bare aws.Config leaves both unset, which
	// turns S3's default checksums off.
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenSupported
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal("STS GetCallerIdentity: ", err)
	}
	users, err := iam.NewFromConfig(cfg).ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatal("IAM ListUsers: ", err)
	}
	if !slices.ContainsFunc(users.Users, func(u iamtypes.User) bool { return aws.ToString(u.UserName) == "alice" }) {
		t.Fatalf("IAM ListUsers does not list alice: %d users", len(users.Users))
	}

	client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal("S3 CreateBucket: ", err)
	}
	big := randomPayload(t, bigObjectSize)
	small := []byte("a small object\n")
	for name, body := range map[string][]byte{"big.bin": big, "small.txt": small} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(name), Body: bytes.NewReader(body)}); err != nil {
			t.Fatalf("S3 PutObject %s (%d bytes): %v", name, len(body), err)
		}
	}
	checkObject(t, client, bucket, "big.bin", big)
	checkObject(t, client, bucket, "small.txt", small)

	multi := randomPayload(t, 2*partSize+lastPartSize)
	created, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("multi.bin")})
	if err != nil {
		t.Fatal("S3 CreateMultipartUpload: ", err)
	}
	var parts []s3types.CompletedPart
	for i, start := range []int{0, partSize, 2 * partSize} {
		end := min(start+partSize, len(multi))
		n := int32(i + 1)
		out, err := client.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String("multi.bin"),
			UploadId: created.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(multi[start:end])})
		if err != nil {
			t.Fatalf("S3 UploadPart %d: %v", n, err)
		}
		parts = append(parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	}
	if _, err := client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("multi.bin"),
		UploadId: created.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal("S3 CompleteMultipartUpload: ", err)
	}
	checkObject(t, client, bucket, "multi.bin", multi)

	// No prefix or delimiter: moto refuses S3 queries that need "/" encoded (FACTS.md).
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal("S3 ListObjectsV2: ", err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if want := []string{"big.bin", "multi.bin", "small.txt"}; !slices.Equal(keys, want) {
		t.Fatalf("ListObjectsV2 lists %v, want %v", keys, want)
	}
	return aws.ToString(who.Arn)
}

// getObject checks that key in bucket holds want, comparing SHA-256 digests.
func checkObject(t *testing.T, client *s3.Client, bucket, key string, want []byte) {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("S3 GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		t.Fatalf("S3 GetObject %s: read: %v", key, err)
	}
	if wantSum := sha256.Sum256(want); !bytes.Equal(h.Sum(nil), wantSum[:]) {
		t.Fatalf("S3 GetObject %s: %d bytes with another SHA-256 than the %d put", key, n, len(want))
	}
}

func randomPayload(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// checkServiceCalls checks that the calls of useServices went through the recorder.
func checkServiceCalls(t *testing.T, calls []recordedCall) {
	t.Helper()
	wants := []struct {
		what   string
		method string
		path   string // suffix
		query  string // substring
		action string
	}{
		{"STS GetCallerIdentity", http.MethodPost, "/", "", "GetCallerIdentity"},
		{"IAM ListUsers", http.MethodPost, "/", "", "ListUsers"},
		{"S3 PutObject big", http.MethodPut, "/big.bin", "", ""},
		{"S3 PutObject small", http.MethodPut, "/small.txt", "", ""},
		{"S3 GetObject", http.MethodGet, "/big.bin", "", ""},
		{"S3 ListObjectsV2", http.MethodGet, "", "list-type=2", ""},
		{"S3 CreateMultipartUpload", http.MethodPost, "/multi.bin", "uploads", ""},
		{"S3 UploadPart 2", http.MethodPut, "/multi.bin", "partNumber=2", ""},
		{"S3 UploadPart 3", http.MethodPut, "/multi.bin", "partNumber=3", ""},
		{"S3 CompleteMultipartUpload", http.MethodPost, "/multi.bin", "uploadId=", ""},
	}
	// CreateBucket is the only PUT of a bucket path.
	if !slices.ContainsFunc(calls, func(c recordedCall) bool {
		return c.Method == http.MethodPut && strings.Count(c.Path, "/") == 1 && c.Path != "/"
	}) {
		t.Fatalf("the recorder saw no S3 CreateBucket:\n%v", calls)
	}
	for _, w := range wants {
		if !slices.ContainsFunc(calls, func(c recordedCall) bool {
			return c.Method == w.method && strings.HasSuffix(c.Path, w.path) && strings.Contains(c.Query, w.query) && c.Action == w.action
		}) {
			t.Fatalf("the recorder saw no %s:\n%v", w.what, calls)
		}
	}
	for _, c := range calls {
		if c.AccessKeyID == "" {
			t.Fatalf("%v went out unsigned", c)
		}
		// Over http the SDK signs every S3 payload's SHA-256 (the 20 MB one included),
		// never UNSIGNED-PAYLOAD or an aws-chunked STREAMING-* marker.
		if c.Action == "" && !sha256Hex.MatchString(c.PayloadHash) {
			t.Fatalf("%v was signed with payload hash %q, want the body's SHA-256", c, c.PayloadHash)
		}
	}
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// isTemporaryCredentialsCall: STS actions that return temporary credentials.
func isTemporaryCredentialsCall(action string) bool {
	return strings.HasPrefix(action, "AssumeRole") || action == "GetSessionToken" || action == "GetFederationToken"
}

func countActions(calls []recordedCall, match func(string) bool) int {
	n := 0
	for _, c := range calls {
		if match(c.Action) {
			n++
		}
	}
	return n
}

// distinctScopes are the date/region/service scopes the calls were signed for.
func distinctScopes(calls []recordedCall) []string {
	var scopes []string
	for _, c := range calls {
		if !slices.Contains(scopes, c.Scope) {
			scopes = append(scopes, c.Scope)
		}
	}
	slices.Sort(scopes)
	return scopes
}

// distinctDates are the signing dates of the calls (more than one if the test ran over
// midnight UTC).
func distinctDates(calls []recordedCall) []string {
	var dates []string
	for _, c := range calls {
		if d, _, _ := strings.Cut(c.Scope, "/"); !slices.Contains(dates, d) {
			dates = append(dates, d)
		}
	}
	return dates
}
