package awsendpoint_test

import (
	"fmt"

	"github.com/awskeep/awskeep/core/awsendpoint"
)

// `awskeep curl` and `awskeep presign` read the scope from the URL, so that the user need
// not pass --service and --region; `awskeep proxy` turns a scope back into the endpoint.
func Example() {
	for _, host := range []string{
		"sts.eu-west-1.amazonaws.com",
		"amzn-s3-demo-bucket.s3.amazonaws.com",
		"email.us-east-1.amazonaws.com:443",
		"iam.us-gov.amazonaws.com",
		"127.0.0.1:5000",
	} {
		s, err := awsendpoint.Infer(host)
		if err != nil {
			fmt.Println(err)
			continue
		}
		u, err := awsendpoint.URL(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s: --service %s --region %s, endpoint %s\n", host, s.Service, s.Region, u)
	}
	// Output:
	// sts.eu-west-1.amazonaws.com: --service sts --region eu-west-1, endpoint https://sts.eu-west-1.amazonaws.com
	// amzn-s3-demo-bucket.s3.amazonaws.com: --service s3 --region us-east-1, endpoint https://s3.us-east-1.amazonaws.com
	// email.us-east-1.amazonaws.com:443: --service ses --region us-east-1, endpoint https://email.us-east-1.amazonaws.com
	// iam.us-gov.amazonaws.com: --service iam --region us-gov-west-1, endpoint https://iam.us-gov.amazonaws.com
	// cannot tell the AWS service and region from host "127.0.0.1:5000": pass --service and --region
}

func ExampleInfer() {
	s, err := awsendpoint.Infer("a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com")
	fmt.Printf("%+v %v\n", s, err)

	_, err = awsendpoint.Infer("123456789012.dkr.ecr.us-east-1.amazonaws.com")
	fmt.Println(err)
	// Output:
	// {Service:execute-api Region:eu-west-1} <nil>
	// cannot tell the AWS service and region from host "123456789012.dkr.ecr.us-east-1.amazonaws.com": the ECR Docker registry takes docker login credentials; pass --service and --region
}

func ExampleURL() {
	for _, s := range []awsendpoint.Scope{
		{Service: "sts", Region: "eu-west-1"},
		{Service: "ses", Region: "us-east-1"},
		{Service: "iam", Region: "cn-northwest-1"},
		{Service: "lex", Region: "us-east-1"},
	} {
		u, err := awsendpoint.URL(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(u)
	}
	// Output:
	// https://sts.eu-west-1.amazonaws.com
	// https://email.us-east-1.amazonaws.com
	// https://iam.cn-north-1.amazonaws.com.cn
	// awsendpoint: no single endpoint for the scope: several AWS endpoints, or a resource of yours, sign as "lex"
}
