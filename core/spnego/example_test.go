package spnego_test

import (
	"fmt"
	"io"

	"github.com/awskeep/awskeep/core/spnego"
)

// After `kinit alice@EXAMPLE.COM`, fetch an identity provider's page that authenticates
// with Kerberos (Integrated Windows Authentication).
func ExampleClient() {
	c, err := spnego.Client(spnego.Options{}) // $KRB5_CONFIG, $KRB5CCNAME, or MIT's defaults
	if err != nil {
		fmt.Println(err) // e.g. "spnego: no Kerberos ticket in FILE:/tmp/krb5cc_1000 (from default): run kinit"
		return
	}
	resp, err := c.Get("https://sts.example.com/adfs/ls/IdpInitiatedSignOn.aspx?loginToRp=urn:amazon:webservices")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body) // the HTML form holding the SAMLResponse
	_ = page
}
