package awsendpoint

import (
	"errors"
	"strings"
	"testing"
)

// inferCases are real hosts from the AWS documentation and the SDK's endpoints model, with
// the scope aws-sdk-go-v2 signs requests to them for.
var inferCases = []struct {
	name    string
	host    string
	service string
	region  string
}{
	// Partitions.
	{"regional", "sts.eu-west-1.amazonaws.com", "sts", "eu-west-1"},
	{"china", "sts.cn-north-1.amazonaws.com.cn", "sts", "cn-north-1"},
	{"china northwest", "ec2.cn-northwest-1.amazonaws.com.cn", "ec2", "cn-northwest-1"},
	{"govcloud", "sts.us-gov-west-1.amazonaws.com", "sts", "us-gov-west-1"},
	{"govcloud east", "kms.us-gov-east-1.amazonaws.com", "kms", "us-gov-east-1"},
	{"dual-stack api.aws", "sts.us-east-1.api.aws", "sts", "us-east-1"},
	{"dual-stack api.aws fips", "sts-fips.us-east-2.api.aws", "sts", "us-east-2"},
	{"dual-stack china", "ec2.cn-north-1.api.amazonwebservices.com.cn", "ec2", "cn-north-1"},
	{"iso", "sts.us-iso-east-1.c2s.ic.gov", "sts", "us-iso-east-1"},
	{"iso-b", "ec2.us-isob-east-1.sc2s.sgov.gov", "ec2", "us-isob-east-1"},
	{"iso-e", "kms.eu-isoe-west-1.cloud.adc-e.uk", "kms", "eu-isoe-west-1"},
	{"iso-f", "sts.us-isof-south-1.csp.hci.ic.gov", "sts", "us-isof-south-1"},
	{"european sovereign cloud", "sts.eusc-de-east-1.amazonaws.eu", "sts", "eusc-de-east-1"},
	{"region opened later", "sts.ap-southeast-9.amazonaws.com", "sts", "ap-southeast-9"},

	// Global endpoints.
	{"iam", "iam.amazonaws.com", "iam", "us-east-1"},
	{"iam fips", "iam-fips.amazonaws.com", "iam", "us-east-1"},
	{"iam dual-stack", "iam.global.api.aws", "iam", "us-east-1"},
	{"iam china", "iam.cn-north-1.amazonaws.com.cn", "iam", "cn-north-1"},
	{"iam china without region", "iam.amazonaws.com.cn", "iam", "cn-north-1"},
	{"iam govcloud", "iam.us-gov.amazonaws.com", "iam", "us-gov-west-1"},
	{"iam iso", "iam.us-iso-east-1.c2s.ic.gov", "iam", "us-iso-east-1"},
	{"sts global", "sts.amazonaws.com", "sts", "us-east-1"},
	{"s3 global", "s3.amazonaws.com", "s3", "us-east-1"},
	{"route53", "route53.amazonaws.com", "route53", "us-east-1"},
	{"route53 china", "route53.amazonaws.com.cn", "route53", "cn-northwest-1"},
	{"route53 govcloud", "route53.us-gov.amazonaws.com", "route53", "us-gov-west-1"},
	{"cloudfront", "cloudfront.amazonaws.com", "cloudfront", "us-east-1"},
	{"organizations", "organizations.us-east-1.amazonaws.com", "organizations", "us-east-1"},
	{"organizations without region", "organizations.amazonaws.com", "organizations", "us-east-1"},
	{"networkmanager signs for us-west-2", "networkmanager.us-west-2.amazonaws.com", "networkmanager", "us-west-2"},
	{"budgets iso-b", "budgets.global.sc2s.sgov.gov", "budgets", "us-isob-east-1"},
	{"health global", "global.health.amazonaws.com", "health", "us-east-1"},
	{"health regional", "health.us-east-2.amazonaws.com", "health", "us-east-2"},
	{"simpledb", "sdb.amazonaws.com", "sdb", "us-east-1"},

	// FIPS and dual-stack markers.
	{"fips suffix", "kms-fips.us-west-2.amazonaws.com", "kms", "us-west-2"},
	{"fips label first", "fips.batch.us-east-1.amazonaws.com", "batch", "us-east-1"},
	{"fips label after service", "kms.fips.us-east-1.amazonaws.com", "kms", "us-east-1"},
	{"fips inside multi-label prefix", "runtime-fips.sagemaker.us-east-1.amazonaws.com", "sagemaker", "us-east-1"},
	{"s3 dualstack", "s3.dualstack.us-west-2.amazonaws.com", "s3", "us-west-2"},
	{"s3 fips dualstack", "s3-fips.dualstack.us-east-1.amazonaws.com", "s3", "us-east-1"},

	// Amazon S3 ("Virtual hosting of buckets").
	{"s3 legacy dash region", "s3-us-west-2.amazonaws.com", "s3", "us-west-2"},
	{"s3 external-1", "s3-external-1.amazonaws.com", "s3", "us-east-1"},
	{"s3 legacy fips", "s3-fips-us-gov-west-1.amazonaws.com", "s3", "us-gov-west-1"},
	{"bucket regional", "amzn-s3-demo-bucket.s3.eu-central-1.amazonaws.com", "s3", "eu-central-1"},
	{"bucket global", "amzn-s3-demo-bucket.s3.amazonaws.com", "s3", "us-east-1"},
	{"bucket legacy dash region", "amzn-s3-demo-bucket.s3-eu-west-1.amazonaws.com", "s3", "eu-west-1"},
	{"bucket dualstack", "amzn-s3-demo-bucket.s3.dualstack.ap-south-1.amazonaws.com", "s3", "ap-south-1"},
	{"bucket with dots", "www.example.com.s3.us-west-2.amazonaws.com", "s3", "us-west-2"},
	{"bucket named like a region", "us-west-2.s3.amazonaws.com", "s3", "us-east-1"},
	{"bucket named like a service", "email.s3.eu-west-1.amazonaws.com", "s3", "eu-west-1"},
	{"bucket china", "amzn-s3-demo-bucket.s3.cn-north-1.amazonaws.com.cn", "s3", "cn-north-1"},
	{"access point", "finance-docs-123456789012.s3-accesspoint.us-west-2.amazonaws.com", "s3", "us-west-2"},
	{"access point dualstack", "finance-docs-123456789012.s3-accesspoint.dualstack.us-west-2.amazonaws.com", "s3", "us-west-2"},
	{"s3 control", "123456789012.s3-control.eu-west-1.amazonaws.com", "s3", "eu-west-1"},
	{"s3 object lambda", "my-olap-123456789012.s3-object-lambda.us-east-1.amazonaws.com", "s3-object-lambda", "us-east-1"},
	{"s3 express zonal", "amzn-s3-demo-bucket--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com", "s3express", "us-west-2"},
	{"s3 express control", "s3express-control.us-west-2.amazonaws.com", "s3express", "us-west-2"},

	// Endpoints in front of customer resources.
	{"api gateway", "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com", "execute-api", "eu-west-1"},
	{"lambda function url", "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws", "lambda", "us-east-1"},
	{"vpc lattice", "my-svc-0123456789abcdef0.7d67968.vpc-lattice-svcs.us-west-2.on.aws", "vpc-lattice-svcs", "us-west-2"},
	{"opensearch domain", "search-my-domain-abcdefghijklmnop.us-east-1.es.amazonaws.com", "es", "us-east-1"},
	{"opensearch vpc domain", "vpc-my-domain-abcdefghijklmnop.eu-west-1.es.amazonaws.com", "es", "eu-west-1"},
	{"opensearch dual-stack domain", "search-my-domain-abcdefghijklmnop.aos.us-east-1.on.aws", "es", "us-east-1"},
	{"opensearch serverless collection", "07tjusf2h91cunochc.us-west-2.aoss.amazonaws.com", "aoss", "us-west-2"},
	{"opensearch serverless api", "aoss.us-west-2.amazonaws.com", "aoss", "us-west-2"},
	{"appsync graphql", "abcdefghijklmnopqrstuvwxyz.appsync-api.us-east-1.amazonaws.com", "appsync", "us-east-1"},
	{"rds iam auth token", "mydb.123456789012.us-east-1.rds.amazonaws.com", "rds-db", "us-east-1"},
	{"rds api", "rds.us-east-1.amazonaws.com", "rds", "us-east-1"},
	{"neptune iam auth", "my-cluster.cluster-abcdefghijkl.us-east-1.neptune.amazonaws.com", "neptune-db", "us-east-1"},

	// Signing names that are not the endpoint prefix.
	{"sagemaker runtime", "runtime.sagemaker.eu-west-1.amazonaws.com", "sagemaker", "eu-west-1"},
	{"sagemaker api", "api.sagemaker.eu-west-1.amazonaws.com", "sagemaker", "eu-west-1"},
	{"iot data", "data.iot.us-east-1.amazonaws.com", "iotdata", "us-east-1"},
	{"iot data ats", "data-ats.iot.us-east-1.amazonaws.com", "iotdata", "us-east-1"},
	{"iot account endpoint", "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com", "iotdata", "eu-west-1"},
	{"iot account endpoint china", "a1b2c3d4e5f6g7.ats.iot.cn-north-1.amazonaws.com.cn", "iotdata", "cn-north-1"},
	{"iot data fips", "data.iot-fips.us-east-1.amazonaws.com", "iotdata", "us-east-1"},
	{"iot control plane", "iot.us-east-1.amazonaws.com", "iot", "us-east-1"},
	{"iot jobs", "data.jobs.iot.us-east-1.amazonaws.com", "iot-jobs-data", "us-east-1"},
	{"iot tunneling", "api.tunneling.iot.us-east-1.amazonaws.com", "IoTSecuredTunneling", "us-east-1"},
	{"ses", "email.us-east-1.amazonaws.com", "ses", "us-east-1"},
	{"ses smtp", "email-smtp.eu-west-1.amazonaws.com", "ses", "eu-west-1"},
	{"cloudwatch", "monitoring.us-east-2.amazonaws.com", "monitoring", "us-east-2"},
	{"dynamodb streams", "streams.dynamodb.us-east-1.amazonaws.com", "dynamodb", "us-east-1"},
	{"lex runtime", "runtime.lex.us-east-1.amazonaws.com", "lex", "us-east-1"},
	{"lex v2 runtime", "runtime-v2-lex.us-east-1.amazonaws.com", "lex", "us-east-1"},
	{"bedrock runtime", "bedrock-runtime.us-east-1.amazonaws.com", "bedrock", "us-east-1"},
	{"bedrock agent runtime", "bedrock-agent-runtime.us-west-2.amazonaws.com", "bedrock", "us-west-2"},
	{"step functions", "states.us-east-1.amazonaws.com", "states", "us-east-1"},
	{"step functions sync", "sync-states.us-east-1.amazonaws.com", "states", "us-east-1"},
	{"cloudwatch logs live tail", "stream-logs.us-east-1.amazonaws.com", "logs", "us-east-1"},
	{"ecr api", "api.ecr.us-east-1.amazonaws.com", "ecr", "us-east-1"},
	{"ecr dual-stack", "ecr.us-east-1.api.aws", "ecr", "us-east-1"},
	{"pinpoint", "pinpoint.us-east-1.amazonaws.com", "mobiletargeting", "us-east-1"},
	{"marketplace metering", "metering.marketplace.us-east-1.amazonaws.com", "aws-marketplace", "us-east-1"},
	{"sso portal", "portal.sso.eu-west-1.amazonaws.com", "awsssoportal", "eu-west-1"},
	{"transcribe china", "cn.transcribe.cn-north-1.amazonaws.com.cn", "transcribe", "cn-north-1"},

	// Services that sign as their endpoint prefix.
	{"secrets manager", "secretsmanager.us-east-1.amazonaws.com", "secretsmanager", "us-east-1"},
	{"ssm", "ssm.ap-northeast-1.amazonaws.com", "ssm", "ap-northeast-1"},
	{"kms", "kms.eu-west-1.amazonaws.com", "kms", "eu-west-1"},
	{"logs", "logs.eu-west-1.amazonaws.com", "logs", "eu-west-1"},
	{"sqs", "sqs.us-east-2.amazonaws.com", "sqs", "us-east-2"},
	{"sqs legacy", "queue.amazonaws.com", "sqs", "us-east-1"},
	{"sqs legacy regional", "us-west-2.queue.amazonaws.com", "sqs", "us-west-2"},
	{"elb", "elasticloadbalancing.us-east-1.amazonaws.com", "elasticloadbalancing", "us-east-1"},
	{"ec2", "ec2.sa-east-1.amazonaws.com", "ec2", "sa-east-1"},
	{"sns", "sns.ca-central-1.amazonaws.com", "sns", "ca-central-1"},
	{"datazone dual-stack only", "datazone.us-east-1.api.aws", "datazone", "us-east-1"},

	// Normalisation.
	{"port", "sts.eu-west-1.amazonaws.com:443", "sts", "eu-west-1"},
	{"empty port", "sts.eu-west-1.amazonaws.com:", "sts", "eu-west-1"},
	{"upper case", "STS.EU-West-1.AmazonAWS.com", "sts", "eu-west-1"},
	{"trailing dot", "sts.eu-west-1.amazonaws.com.", "sts", "eu-west-1"},
	{"trailing dot and port", "iam.amazonaws.com.:8443", "iam", "us-east-1"},
}

func TestInfer(t *testing.T) {
	for _, tc := range inferCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Infer(tc.host)
			if err != nil {
				t.Fatalf("Infer(%q): %v", tc.host, err)
			}
			if want := (Scope{Service: tc.service, Region: tc.region}); got != want {
				t.Errorf("Infer(%q) = %+v, want %+v", tc.host, got, want)
			}
		})
	}
}

func TestInferRefuses(t *testing.T) {
	cases := []struct {
		name   string
		host   string
		reason string // "" for a host that is not AWS's
	}{
		{"loopback with port", "127.0.0.1:5000", ""},
		{"ipv4", "54.239.28.85", ""},
		{"ipv6 literal", "[::1]:5000", ""},
		{"bare ipv6", "::1", ""},
		{"ipv6 under amazonaws", "[2600:1f18::1]", ""},
		{"localhost", "localhost", ""},
		{"localstack", "localhost:4566", ""},
		{"localhost subdomain", "s3.localhost.localstack.cloud:4566", ""},
		{"other domain", "example.com", ""},
		{"look-alike domain", "sts.us-east-1.amazonaws.com.example.com", ""},
		{"suffix inside a label", "sts.us-east-1.notamazonaws.com", ""},
		{"empty", "", ""},
		{"port only", ":443", ""},
		{"bad port", "sts.amazonaws.com:https", ""},
		{"long port", "sts.amazonaws.com:123456", ""},
		{"empty label", "sts..amazonaws.com", ""},
		{"two trailing dots", "sts.amazonaws.com..", ""},
		{"leading hyphen", "-sts.us-east-1.amazonaws.com", ""},
		{"underscore", "my_bucket.s3.amazonaws.com", ""},
		{"unicode", "süd.s3.amazonaws.com", ""},
		{"kelvin sign", "\u212aMS.us-east-1.amazonaws.com", ""},
		{"user info", "user@sts.amazonaws.com", ""},
		{"path", "sts.amazonaws.com/", ""},
		{"space", "sts.amazonaws.com ", ""},
		{"suffix alone", "amazonaws.com", ""},
		{"label too long", strings.Repeat("a", 64) + ".s3.amazonaws.com", ""},
		{"region only", "us-east-1.amazonaws.com", "it names no service"},
		{"numeric service", "123.us-east-1.amazonaws.com", "it names no service"},
		{"markers only", "fips.dualstack.us-east-1.amazonaws.com", "it names no service"},
		{"regional service without region", "ec2.amazonaws.com", "it names no region and ec2 has no global endpoint there"},
		{"not a region", "sts.xx.amazonaws.com", "it names no region and xx has no global endpoint there"},
		{"load balancer", "my-lb-1234567890.us-east-1.elb.amazonaws.com", "it names no region and elb has no global endpoint there"},
		{"ec2 instance name", "ec2-203-0-113-25.compute-1.amazonaws.com", "it names no region and compute-1 has no global endpoint there"},
		{"global service on on.aws", "iam.on.aws", "it names no region, and no partition has global endpoints under on.aws"},
		{"us-gov marker outside us-gov suffixes", "iam.us-gov.amazonaws.com.cn", "it names no region, and no partition has global endpoints under us-gov.amazonaws.com.cn"},
		{"china region on .com", "sts.cn-north-1.amazonaws.com", "region cn-north-1 is in partition aws-cn, whose endpoints are not under amazonaws.com"},
		{"aws region on .com.cn", "sts.us-east-1.amazonaws.com.cn", "region us-east-1 is in partition aws, whose endpoints are not under amazonaws.com.cn"},
		{"iso region on .com", "sts.us-iso-east-1.amazonaws.com", "region us-iso-east-1 is in partition aws-iso, whose endpoints are not under amazonaws.com"},
		{"ecr docker registry", "123456789012.dkr.ecr.us-east-1.amazonaws.com", "the ECR Docker registry takes docker login credentials"},
		{"ecr docker registry fips", "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "the ECR Docker registry takes docker login credentials"},
		{"ecr docker registry dual-stack", "123456789012.dkr-ecr.us-east-1.on.aws", "the ECR Docker registry takes docker login credentials"},
		{"s3 website", "amzn-s3-demo-bucket.s3-website-us-east-1.amazonaws.com", "S3 website endpoints take anonymous requests only"},
		{"s3 website dotted", "amzn-s3-demo-bucket.s3-website.eu-west-1.amazonaws.com", "S3 website endpoints take anonymous requests only"},
		{"s3 multi-region access point", "mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com", "multi-Region access points are signed with SigV4A"},
		{"iot credentials provider", "c2sakl5huz0afv.credentials.iot.us-east-1.amazonaws.com", "the IoT credentials provider authenticates devices with X.509 certificates"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Infer(tc.host)
			if err == nil {
				t.Fatalf("Infer(%q) = %+v, want an error", tc.host, got)
			}
			if got != (Scope{}) {
				t.Errorf("Infer(%q) returned %+v with its error", tc.host, got)
			}
			var he *HostError
			if !errors.As(err, &he) || !errors.Is(err, ErrUnknownHost) {
				t.Fatalf("Infer(%q) error %v (%T) is not a *HostError wrapping ErrUnknownHost", tc.host, err, err)
			}
			if he.Host != tc.host || he.Reason != tc.reason {
				t.Errorf("Infer(%q): HostError{Host: %q, Reason: %q}, want reason %q", tc.host, he.Host, he.Reason, tc.reason)
			}
			if !strings.HasSuffix(err.Error(), "pass --service and --region") {
				t.Errorf("Infer(%q) error %q does not tell the user to pass --service and --region", tc.host, err)
			}
		})
	}
}

func TestInferErrorText(t *testing.T) {
	for host, want := range map[string]string{
		"127.0.0.1:5000": `cannot tell the AWS service and region from host "127.0.0.1:5000": pass --service and --region`,
		"localhost":      `cannot tell the AWS service and region from host "localhost": pass --service and --region`,
		"ec2.amazonaws.com": `cannot tell the AWS service and region from host "ec2.amazonaws.com": ` +
			`it names no region and ec2 has no global endpoint there; pass --service and --region`,
		"a\nb": `cannot tell the AWS service and region from host "a\nb": pass --service and --region`,
	} {
		_, err := Infer(host)
		if err == nil || err.Error() != want {
			t.Errorf("Infer(%q) error:\n got %v\nwant %s", host, err, want)
		}
	}
}
