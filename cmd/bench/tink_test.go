package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/core/sigv4"
	"github.com/awskeep/awskeep/plugins"
)

// The Tink backend's rows: the keyset's KEK is a KMS key in the run's moto (the same moto
// as STS, SigV4 checked), created per benchmark with alice's key, which may do anything.
// The plugin reaches KMS with a profile "kms" in a shared credentials file of its own,
// passed through $AWSKEEP_PLUGIN_ENV, as docs/backend-tink.md sets it up. Keys have no PIN:
// the host asks for none (the plugin does not declare plugins.CapabilityPIN).
func init() {
	hmacDevices = append(hmacDevices, benchDevice{"tink-kms-moto", tinkDevice})
	backends = append(backends, benchDevice{"tink", tinkDevice})
}

// tinkDevice is a Tink keyset file (not yet written: importKey or awskeep import writes
// it) under a fresh KMS key of moto.
func tinkDevice(b *testing.B) device {
	b.Helper()
	arn, err := createKMSKey(context.Background(), alice)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	creds := filepath.Join(dir, "kms-credentials")
	profile := fmt.Sprintf("[kms]\naws_access_key_id = %s\naws_secret_access_key = %s\n", alice.AccessKeyID, alice.SecretAccessKey)
	if err := os.WriteFile(creds, []byte(profile), 0o600); err != nil {
		b.Fatal(err)
	}
	uri := fmt.Sprintf("tink:file=%s?kek=aws-kms://%s&kms-endpoint=%s&profile=kms", filepath.Join(dir, "bench.keyset.json"), arn, moto.URL)
	return device{name: "tink", key: plugins.Key{URI: uri}, env: []string{
		"AWS_SHARED_CREDENTIALS_FILE=" + creds, "AWS_EC2_METADATA_DISABLED=true",
		plugins.PluginEnvVar + "=AWS_SHARED_CREDENTIALS_FILE",
	}}
}

// createKMSKey creates a symmetric KMS key in moto (TrentService.CreateKey, AWS KMS API
// Reference) signed with u's key, and returns its ARN. The cmd module does not depend on
// the SDK's KMS client for this one call.
func createKMSKey(ctx context.Context, u mototest.User) (string, error) {
	const body = `{"Description":"awskeep bench KEK"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, moto.URL+"/", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService.CreateKey")
	sum := sha256.Sum256([]byte(body))
	signer := sigv4.New(sigv4.SoftwareDeriver(u.SecretAccessKey))
	if err := signer.SignHTTP(ctx, req, hex.EncodeToString(sum[:]), sigv4.Credentials{AccessKeyID: u.AccessKeyID}, "kms", mototest.Region, time.Now()); err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("moto CreateKey: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var out struct {
		KeyMetadata struct{ Arn string }
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &out) != nil || out.KeyMetadata.Arn == "" {
		return "", fmt.Errorf("moto CreateKey: %s: %.200s", resp.Status, data)
	}
	return out.KeyMetadata.Arn, nil
}
