package awsendpoint

import (
	"errors"
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	cases := []struct {
		service, region, want string
	}{
		{"sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com"},
		{"sts", "us-east-1", "https://sts.us-east-1.amazonaws.com"}, // regional, as aws-sdk-go-v2 by default
		{"sts", "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"},
		{"sts", "us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"},
		{"sts", "us-iso-east-1", "https://sts.us-iso-east-1.c2s.ic.gov"},
		{"sts", "eusc-de-east-1", "https://sts.eusc-de-east-1.amazonaws.eu"},
		{"s3", "eu-west-1", "https://s3.eu-west-1.amazonaws.com"},
		{"s3", "us-east-1", "https://s3.us-east-1.amazonaws.com"},
		{"iam", "us-east-1", "https://iam.amazonaws.com"},
		{"iam", "eu-west-1", "https://iam.amazonaws.com"}, // one endpoint for the partition
		{"iam", "cn-north-1", "https://iam.cn-north-1.amazonaws.com.cn"},
		{"iam", "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn"},
		{"iam", "us-gov-east-1", "https://iam.us-gov.amazonaws.com"},
		{"route53", "us-east-1", "https://route53.amazonaws.com"},
		{"route53", "cn-northwest-1", "https://route53.amazonaws.com.cn"},
		{"cloudfront", "us-east-1", "https://cloudfront.amazonaws.com"},
		{"organizations", "us-east-1", "https://organizations.us-east-1.amazonaws.com"},
		{"sdb", "us-east-1", "https://sdb.amazonaws.com"},
		{"sdb", "eu-west-1", "https://sdb.eu-west-1.amazonaws.com"},
		{"ses", "us-east-1", "https://email.us-east-1.amazonaws.com"},
		{"iotdata", "eu-west-1", "https://data-ats.iot.eu-west-1.amazonaws.com"},
		{"iot-jobs-data", "eu-west-1", "https://data.jobs.iot.eu-west-1.amazonaws.com"},
		{"IoTSecuredTunneling", "eu-west-1", "https://api.tunneling.iot.eu-west-1.amazonaws.com"},
		{"sagemaker", "eu-west-1", "https://api.sagemaker.eu-west-1.amazonaws.com"},
		{"ecr", "us-west-2", "https://api.ecr.us-west-2.amazonaws.com"},
		{"mobiletargeting", "us-east-1", "https://pinpoint.us-east-1.amazonaws.com"},
		{"s3express", "us-west-2", "https://s3express-control.us-west-2.amazonaws.com"},
		{"monitoring", "us-east-2", "https://monitoring.us-east-2.amazonaws.com"},
		{"dynamodb", "us-east-1", "https://dynamodb.us-east-1.amazonaws.com"},
		{"bedrock", "us-east-1", "https://bedrock.us-east-1.amazonaws.com"},
		{"lambda", "ap-southeast-2", "https://lambda.ap-southeast-2.amazonaws.com"},
		{"sqs", "us-east-1", "https://sqs.us-east-1.amazonaws.com"},
		{"es", "eu-west-1", "https://es.eu-west-1.amazonaws.com"},
		{"datazone", "us-east-1", "https://datazone.us-east-1.api.aws"},
		{"transcribe", "cn-north-1", "https://cn.transcribe.cn-north-1.amazonaws.com.cn"},
	}
	for _, tc := range cases {
		t.Run(tc.service+"/"+tc.region, func(t *testing.T) {
			got, err := URL(Scope{Service: tc.service, Region: tc.region})
			if err != nil || got != tc.want {
				t.Errorf("URL(%s, %s) = %q, %v; want %q", tc.service, tc.region, got, err, tc.want)
			}
		})
	}
}

func TestURLRefuses(t *testing.T) {
	cases := []struct {
		name            string
		service, region string
		want            error
	}{
		{"lex", "lex", "us-east-1", ErrNoEndpoint},
		{"marketplace", "aws-marketplace", "us-east-1", ErrNoEndpoint},
		{"chime", "chime", "us-east-1", ErrNoEndpoint},
		{"timestream", "timestream", "us-east-1", ErrNoEndpoint},
		{"api gateway", "execute-api", "us-east-1", ErrNoEndpoint},
		{"rds auth token", "rds-db", "us-east-1", ErrNoEndpoint},
		{"neptune auth", "neptune-db", "us-east-1", ErrNoEndpoint},
		{"empty region", "sts", "", ErrInvalidScope},
		{"pseudo region", "sts", "aws-global", ErrInvalidScope},
		{"fips pseudo region", "sts", "fips-us-east-1", ErrInvalidScope},
		{"region with path", "sts", "us-east-1/x", ErrInvalidScope},
		{"upper-case region", "sts", "US-EAST-1", ErrInvalidScope},
		{"empty service", "", "us-east-1", ErrInvalidScope},
		{"service with dot", "sts.evil.com", "us-east-1", ErrInvalidScope},
		{"service with slash", "sts/", "us-east-1", ErrInvalidScope},
		{"service with space", "s 3", "us-east-1", ErrInvalidScope},
		{"upper-case service", "STS", "us-east-1", ErrInvalidScope},
		{"service ending in hyphen", "sts-", "us-east-1", ErrInvalidScope},
		{"numeric service", "123", "us-east-1", ErrInvalidScope},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := URL(Scope{Service: tc.service, Region: tc.region})
			if !errors.Is(err, tc.want) {
				t.Fatalf("URL(%q, %q) = %q, %v; want an error wrapping %v", tc.service, tc.region, got, err, tc.want)
			}
			if got != "" {
				t.Errorf("URL(%q, %q) returned %q with its error", tc.service, tc.region, got)
			}
		})
	}
}

// roundTrip is a list of scopes whose endpoint must be read back as the scope itself.
var roundTrip = []Scope{
	{"sts", "us-east-1"}, {"sts", "eu-west-1"}, {"sts", "cn-north-1"}, {"sts", "cn-northwest-1"},
	{"sts", "us-gov-west-1"}, {"sts", "us-gov-east-1"}, {"sts", "us-iso-east-1"}, {"sts", "us-isob-east-1"},
	{"sts", "eu-isoe-west-1"}, {"sts", "us-isof-south-1"}, {"sts", "eusc-de-east-1"},
	{"s3", "us-east-1"}, {"s3", "eu-west-1"}, {"s3", "cn-north-1"},
	{"iam", "us-east-1"}, {"iam", "cn-north-1"}, {"iam", "us-gov-west-1"}, {"iam", "us-iso-east-1"},
	{"route53", "us-east-1"}, {"route53", "cn-northwest-1"}, {"route53", "us-gov-west-1"},
	{"cloudfront", "us-east-1"}, {"organizations", "us-east-1"}, {"organizations", "us-gov-west-1"},
	{"networkmanager", "us-west-2"}, {"health", "us-east-1"}, {"health", "us-east-2"}, {"sdb", "us-east-1"},
	{"ses", "us-east-1"}, {"ses", "eu-west-1"}, {"iotdata", "us-east-1"}, {"iot", "us-east-1"},
	{"iot-jobs-data", "us-east-1"}, {"IoTSecuredTunneling", "us-east-1"}, {"sagemaker", "eu-west-1"},
	{"ecr", "us-east-1"}, {"ecr-public", "us-east-1"}, {"s3express", "us-west-2"}, {"s3-object-lambda", "us-east-1"},
	{"monitoring", "us-east-1"}, {"dynamodb", "us-east-1"}, {"bedrock", "us-east-1"}, {"appsync", "us-east-1"},
	{"states", "us-east-1"}, {"secretsmanager", "eu-central-1"}, {"ssm", "us-east-1"}, {"kms", "us-gov-west-1"},
	{"logs", "ap-northeast-1"}, {"sqs", "us-east-1"}, {"elasticloadbalancing", "us-east-1"}, {"ec2", "cn-north-1"},
	{"sns", "sa-east-1"}, {"lambda", "us-east-1"}, {"es", "us-east-1"}, {"aoss", "us-west-2"}, {"rds", "us-east-1"},
	{"datazone", "us-east-1"}, {"transcribe", "cn-north-1"}, {"mobiletargeting", "us-east-1"},
	{"awsssoportal", "us-east-1"}, {"sso-oauth", "us-east-1"}, {"memorydb", "us-east-1"},
}

func TestURLRoundTrip(t *testing.T) {
	for _, s := range roundTrip {
		t.Run(s.Service+"/"+s.Region, func(t *testing.T) { checkRoundTrip(t, s) })
	}
}

// TestURLRoundTripTables checks the tables against each other: every prefix URL uses and
// every global endpoint is read back as the scope it was built from.
func TestURLRoundTripTables(t *testing.T) {
	for _, e := range exceptions {
		if e.url == forURL {
			for _, region := range []string{"us-east-1", "eu-west-1", "us-gov-west-1"} {
				checkRoundTrip(t, Scope{Service: e.name, Region: region})
			}
		}
	}
	for _, g := range globals {
		name := g.prefix
		if e, _ := lookup(strings.Split(g.prefix, ".")); e != nil {
			name = e.name
		}
		checkRoundTrip(t, Scope{Service: name, Region: g.region})
	}
}

func checkRoundTrip(t *testing.T, s Scope) {
	t.Helper()
	u, err := URL(s)
	if err != nil {
		t.Errorf("URL(%+v): %v", s, err)
		return
	}
	host, ok := strings.CutPrefix(u, "https://")
	if !ok || host == "" || strings.ContainsAny(host, "/?#@:") {
		t.Errorf("URL(%+v) = %q, not https://host", s, u)
		return
	}
	got, err := Infer(host)
	if err != nil || got != s {
		t.Errorf("Infer(%q) = %+v, %v; want %+v, the scope URL built it from", host, got, err, s)
	}
}

// TestTables checks what the lookups assume of the tables.
func TestTables(t *testing.T) {
	seen := map[string]bool{}
	urlRow := map[string]*exception{}
	for i := range exceptions {
		e := &exceptions[i]
		if seen[e.prefix] {
			t.Errorf("prefix %q is listed twice", e.prefix)
		}
		seen[e.prefix] = true
		labels, ok := hostLabels(strings.TrimPrefix(e.prefix, "*."))
		if !ok || strings.Join(labels, ".") != strings.TrimPrefix(e.prefix, "*.") || len(clean(labels)) != len(labels) {
			t.Errorf("prefix %q is not lower-case host labels without FIPS or dual-stack markers", e.prefix)
		}
		if (e.name == "") != (e.note != "") {
			t.Errorf("prefix %q: a note explains exactly the prefixes that are not signed", e.prefix)
		}
		if e.name == "" && e.url != inferOnly {
			t.Errorf("prefix %q is not signed, so URL cannot use it", e.prefix)
		}
		if e.url == inferOnly {
			continue
		}
		if prev := urlRow[e.name]; prev != nil && (prev.url == forURL || e.url == forURL) {
			t.Errorf("signing name %q: URL rows %q and %q conflict", e.name, prev.prefix, e.prefix)
		}
		urlRow[e.name] = e
	}
	// URL uses a signing name without a row as its own prefix, which must then not be a
	// prefix that signs as something else.
	for _, e := range exceptions {
		if e.name != "" && urlRow[e.name] == nil && byPrefix[e.name] != nil {
			t.Errorf("signing name %q is a prefix that signs as %q: mark the row URL should use", e.name, byPrefix[e.name].name)
		}
	}

	type key struct{ prefix, partition string }
	globalSeen := map[key]bool{}
	for _, g := range globals {
		k := key{g.prefix, g.partition}
		if globalSeen[k] {
			t.Errorf("global %v is listed twice", k)
		}
		globalSeen[k] = true
		if !isRegion(g.region) || partitionOf(g.region).id != g.partition {
			t.Errorf("global %v: region %q is not in the partition", k, g.region)
		}
		if !g.regional && g.host == "" {
			t.Errorf("global %v: a global service needs its host", k)
		}
	}
	ids := map[string]bool{}
	for _, p := range partitions {
		ids[p.id] = true
		if len(p.suffixes) < 2 {
			t.Errorf("partition %s: want dnsSuffix and dualStackDnsSuffix", p.id)
		}
		if p.regionPrefix != "" && partitionOf(p.regionPrefix+"east-1").id != p.id {
			t.Errorf("partition %s: its regions are taken by %s", p.id, partitionOf(p.regionPrefix+"east-1").id)
		}
	}
	for k := range globalSeen {
		if !ids[k.partition] {
			t.Errorf("global %v: unknown partition", k)
		}
	}
}

func TestRegionPattern(t *testing.T) {
	for _, r := range []string{"us-east-1", "eu-central-2", "ap-southeast-7", "cn-northwest-1", "us-gov-west-1",
		"us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1", "eusc-de-east-1", "mx-central-1"} {
		if !isRegion(r) {
			t.Errorf("isRegion(%q) = false", r)
		}
	}
	for _, r := range []string{"", "us-east", "us-east-", "useast-1", "u-east-1", "us-east-1a", "us-east-1-bos-1a",
		"aws-global", "fips-us-east-1", "us-east-1-fips", "US-EAST-1", "us_east_1", "us-east-1.", "global", "us-gov",
		"us-" + strings.Repeat("e", 64) + "-1"} {
		if isRegion(r) {
			t.Errorf("isRegion(%q) = true", r)
		}
	}
}
