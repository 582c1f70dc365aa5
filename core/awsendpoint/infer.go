package awsendpoint

import (
	"fmt"
	"strings"
)

// Scope is what a request is signed for: the region and service of the SigV4 credential
// scope (date/region/service/aws4_request).
type Scope struct {
	Service string // signing name, e.g. "sts", "ses" for email.REGION.amazonaws.com
	Region  string // e.g. "eu-west-1"
}

// regionFirst are the services whose customer hosts put the region before the service
// label: search-DOMAIN.REGION.es.amazonaws.com (OpenSearch), ID.REGION.aoss.amazonaws.com
// (OpenSearch Serverless), search-DOMAIN.REGION.cloudsearch.amazonaws.com,
// DB.ID.REGION.rds.amazonaws.com, DB.ID.REGION.neptune.amazonaws.com and SQS's legacy
// REGION.queue.amazonaws.com.
var regionFirst = map[string]bool{"es": true, "aoss": true, "cloudsearch": true, "rds": true, "neptune": true, "queue": true}

// legacyS3 are the labels that carry the region after a dash: s3-REGION ("Virtual hosting
// of buckets", legacy endpoints), s3-fips-REGION and s3-website-REGION.
var legacyS3 = []string{"s3", "s3-fips", "s3-website"}

// Infer returns the signing name and region for host (a URL host, possibly with :port,
// possibly a virtual-hosted S3 bucket host), as aws-sdk-go-v2's endpoint rules name them
// for the endpoint at that host.
//
// It reads the forms of "AWS service endpoints" in every partition, FIPS (svc-fips.REGION,
// fips.svc.REGION) and dual-stack (svc.dualstack.REGION, svc.REGION.api.aws) included;
// global endpoints (iam.amazonaws.com signs for us-east-1, iam.us-gov.amazonaws.com for
// us-gov-west-1); and the S3 forms of "Virtual hosting of buckets": bucket.s3.REGION,
// bucket.s3-REGION, bucket.s3.dualstack.REGION and bucket.s3.amazonaws.com, which signs
// for us-east-1 as the SDK does (a bucket in another region refuses it and names its own).
// Labels before the service (bucket names, API IDs, account IDs) do not matter.
//
// It returns a *HostError, which wraps ErrUnknownHost and tells the user to pass --service
// and --region, when host is not an AWS endpoint (127.0.0.1:5000, localhost, example.com),
// when it is one that does not take SigV4 (the ECR Docker registry), or when it does not
// tell the region.
func Infer(host string) (Scope, error) {
	labels, ok := hostLabels(host)
	if !ok {
		return Scope{}, &HostError{Host: host}
	}
	suffix, rest := splitSuffix(labels)
	if suffix == "" {
		return Scope{}, &HostError{Host: host}
	}
	fail := func(format string, args ...any) (Scope, error) {
		return Scope{}, &HostError{Host: host, Reason: fmt.Sprintf(format, args...)}
	}

	region, prefix, marker := splitRegion(rest)
	prefix = clean(prefix)
	if len(prefix) == 0 {
		return fail("it names no service")
	}
	e, key := lookup(prefix)
	name := key
	switch {
	case e != nil && e.name == "":
		return fail("%s", e.note)
	case e != nil:
		name = e.name
	case key == "" || key[0] < 'a' || key[0] > 'z', !serviceLabel(key):
		// What URL would refuse (a name left as "a-" by removing "-fips") is no service.
		return fail("it names no service")
	}

	if region == "" {
		p := globalPartition(suffix, marker == "us-gov")
		if p == nil {
			return fail("it names no region, and no partition has global endpoints under %s", strings.TrimPrefix(marker+"."+suffix, "."))
		}
		if g := globalOf(key, p); g != nil {
			return Scope{Service: name, Region: g.region}, nil
		}
		return fail("it names no region and %s has no global endpoint there", name)
	}
	p := partitionOf(region)
	if !p.serves(suffix) {
		return fail("region %s is in partition %s, whose endpoints are not under %s", region, p.id, suffix)
	}
	if g := globalOf(key, p); g != nil && !g.regional {
		// A global service signs for its partition's region whatever the host says.
		region = g.region
	}
	return Scope{Service: name, Region: region}, nil
}

// splitRegion finds the region in the labels before the DNS suffix: last (svc.REGION),
// before a region-first service (ID.REGION.es), or inside a legacy S3 label (s3-REGION).
// Without one, marker is a trailing "us-gov" (iam.us-gov.amazonaws.com) or "global"
// (iam.global.api.aws) label, which it removes.
func splitRegion(rest []string) (region string, prefix []string, marker string) {
	n := len(rest)
	last := rest[n-1]
	if isRegion(last) {
		return last, rest[:n-1], ""
	}
	if n >= 2 && regionFirst[last] && isRegion(rest[n-2]) {
		return rest[n-2], append(append([]string(nil), rest[:n-2]...), last), ""
	}
	for _, s3 := range legacyS3 {
		if r, ok := strings.CutPrefix(last, s3+"-"); ok && isRegion(r) {
			return r, append(append([]string(nil), rest[:n-1]...), s3), ""
		}
	}
	if last == "us-gov" || last == "global" {
		return "", rest[:n-1], last
	}
	return "", rest, ""
}

// clean removes the FIPS and dual-stack markers from the labels before the region:
// svc-fips, fips.svc, svc.fips, svc.dualstack. It also names S3 Express One Zone's zonal
// endpoints (s3express-usw2-az1) by their signing name.
func clean(labels []string) []string {
	out := make([]string, 0, len(labels))
	for _, l := range labels {
		if l == "fips" || l == "dualstack" {
			continue
		}
		// Every "-fips", so that the name is the same however often the host repeats it, and
		// what is left may be a marker itself ("fips-fips").
		for strings.HasSuffix(l, "-fips") {
			l = strings.TrimSuffix(l, "-fips")
		}
		if l == "fips" || l == "dualstack" {
			continue
		}
		if strings.HasPrefix(l, "s3express-") && l != "s3express-control" {
			l = "s3express"
		}
		out = append(out, l)
	}
	return out
}
