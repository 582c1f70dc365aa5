package samlassert_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/awskeep/awskeep/core/samlassert"
)

func Example() {
	// samlResponse is the SAMLResponse field of the form the IdP's page posts to AWS.
	samlResponse := b64(handXML)
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

	a, err := samlassert.Parse(samlResponse, now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a)
	for _, r := range a.Roles {
		fmt.Println("role", r.RoleARN, "via", r.PrincipalARN)
	}

	// No role configured: with several roles, the user has to choose.
	if _, err := a.PickRole(""); errors.Is(err, samlassert.ErrChooseRole) {
		fmt.Println(err)
	}
	role, _ := a.PickRole("arn:aws:iam::222222222222:role/dev/read-only")
	fmt.Println("assume", role.RoleARN, "for", a.SessionDuration)
	// STS AssumeRoleWithSAML then takes role.RoleARN, role.PrincipalARN and a.Encoded().

	// Ten minutes later the assertion has expired.
	_, err = samlassert.Parse(samlResponse, now.Add(10*time.Minute))
	fmt.Println(err)

	// Output:
	// SAML assertion from "https://idp.example.com/saml" with 2 role(s) (arn:aws:iam::111111111111:role/admin, arn:aws:iam::222222222222:role/dev/read-only), session name "alice@example.com", valid until 2026-01-01T12:04:00Z
	// role arn:aws:iam::111111111111:role/admin via arn:aws:iam::111111111111:saml-provider/corp
	// role arn:aws:iam::222222222222:role/dev/read-only via arn:aws:iam::222222222222:saml-provider/corp
	// the assertion offers 2 roles, choose one: arn:aws:iam::111111111111:role/admin, arn:aws:iam::222222222222:role/dev/read-only
	// assume arn:aws:iam::222222222222:role/dev/read-only for 1h0m0s
	// SAML response: the assertion expired at 2026-01-01T12:04:00Z, 6m0s before this machine's time 2026-01-01T12:10:00Z (3m0s of clock skew allowed): log in at the IdP again, or check this machine's clock
}
