// Command stsfloor is the "STS floor" of the credential_process comparisons: the least a
// helper can do to get fresh credentials. It signs one STS GetSessionToken (or AssumeRole)
// form POST with SigV4, written here with crypto/hmac and crypto/sha256, sends it, and prints
// the credentials as credential_process JSON. The standard library only.
//
// Built with -tags pkcs11 it is the "re-initialise per signature" PKCS#11 baseline instead:
// kDate comes from a PKCS#11 token (pkcs11.go), the rest is the same.
//
// Secrets never come from the command line: the secret key from -secret-file, the PIN from
// $PKCS11_PIN.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

var (
	endpoint    = flag.String("endpoint", "", "STS endpoint URL, e.g. http://127.0.0.1:5000")
	region      = flag.String("region", "us-east-1", "signing region")
	accessKeyID = flag.String("access-key-id", "", "the access key id")
	roleARN     = flag.String("role-arn", "", "AssumeRole this role instead of GetSessionToken")
	sessionName = flag.String("role-session-name", "stsfloor", "the AssumeRole session name")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "stsfloor:", err)
		os.Exit(1)
	}
}

func run() error {
	form := url.Values{"Action": {"GetSessionToken"}, "Version": {"2011-06-15"}}
	if *roleARN != "" {
		form = url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"},
			"RoleArn": {*roleARN}, "RoleSessionName": {*sessionName}}
	}
	body := form.Encode()
	req, err := http.NewRequest(http.MethodPost, *endpoint+"/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if err := sign(req, body, time.Now().UTC()); err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("STS %s: %s: %s", form.Get("Action"), resp.Status, data)
	}
	return printCredentials(data)
}

// sign adds the SigV4 headers (AWS General Reference, "Create a signed AWS API request"):
// the canonical request over content-type, host and x-amz-date, the string to sign, and
// the signature with the key derived from kDate (dateKey).
func sign(req *http.Request, body string, now time.Time) error {
	amzDate, date := now.Format("20060102T150405Z"), now.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	const signed = "content-type;host;x-amz-date"
	canonical := strings.Join([]string{
		req.Method, "/", "",
		"content-type:" + req.Header.Get("Content-Type"),
		"host:" + req.URL.Host,
		"x-amz-date:" + amzDate,
		"",
		signed,
		hexSHA256(body),
	}, "\n")
	scope := date + "/" + *region + "/sts/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256(canonical)
	k, err := dateKey(date)
	if err != nil {
		return err
	}
	for _, part := range []string{*region, "sts", "aws4_request"} {
		k = hmacSHA256(k, part)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		*accessKeyID, scope, signed, hex.EncodeToString(hmacSHA256(k, toSign))))
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

type credentials struct {
	AccessKeyID     string `xml:"AccessKeyId" json:"AccessKeyId"`
	SecretAccessKey string
	SessionToken    string
	Expiration      string
}

// printCredentials turns an STS answer into credential_process JSON on stdout.
func printCredentials(data []byte) error {
	var resp struct {
		Session credentials `xml:"GetSessionTokenResult>Credentials"`
		Role    credentials `xml:"AssumeRoleResult>Credentials"`
	}
	if err := xml.Unmarshal(data, &resp); err != nil {
		return fmt.Errorf("STS answer: %w", err)
	}
	c := resp.Session
	if *roleARN != "" {
		c = resp.Role
	}
	if c.AccessKeyID == "" {
		return fmt.Errorf("STS answer without credentials: %s", data)
	}
	out, err := json.Marshal(struct {
		Version int
		credentials
	}{1, c})
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}
