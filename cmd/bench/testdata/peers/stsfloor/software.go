//go:build !pkcs11

package main

import (
	"flag"
	"os"
	"strings"
)

var secretFile = flag.String("secret-file", "", "file holding the secret access key")

// dateKey is kDate = HMAC-SHA256("AWS4" + secret, date), with the secret read from
// -secret-file.
func dateKey(date string) ([]byte, error) {
	secret, err := os.ReadFile(*secretFile)
	if err != nil {
		return nil, err
	}
	return hmacSHA256([]byte("AWS4"+strings.TrimSpace(string(secret))), date), nil
}
