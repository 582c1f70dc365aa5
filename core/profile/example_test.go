package profile_test

import (
	"errors"
	"fmt"

	"github.com/awskeep/awskeep/core/profile"
)

func ExampleLoad() {
	// A command finds the file with DefaultPath(os.Getenv); the test uses its own.
	p, err := profile.Load("testdata/config", "prod-hsm")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Source, p.Region, p.AccessKeyID)
	fmt.Println(p.Key)
	fmt.Println("key set at", p.Where("awskeep_key"))
	fmt.Println("mfa_serial set:", p.Has("mfa_serial"))

	_, err = profile.Load("testdata/config", "prod")
	fmt.Println(err, errors.Is(err, profile.ErrNotFound))
	// Output:
	// device eu-west-1 AKIAIOSFODNN7EXAMPLE
	// pkcs11:token=aws;object=prod?pin-source=file:/run/awskeep/pin
	// key set at testdata/config:5
	// mfa_serial set: false
	// testdata/config: no profile "prod" (profiles here: prod-hsm, prod-admin) true
}
