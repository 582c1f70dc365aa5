package awsendpoint

import (
	"regexp"
	"slices"
	"strings"
)

// partition is one AWS partition as aws-sdk-go-v2 describes it in
// internal/endpoints/awsrulesfn/partitions.json: a set of regions that share DNS suffixes.
type partition struct {
	id string
	// regionPrefix selects the partition's regions; "" is the aws partition, which the SDK
	// also picks for a region no partition's regionRegex matches.
	regionPrefix string
	// suffixes are the DNS suffixes its endpoints live under: dnsSuffix first (the one URL
	// uses), then dualStackDnsSuffix, then the suffix of customer resources such as Lambda
	// function URLs (on.aws, "Lambda function URLs" in the Lambda Developer Guide).
	suffixes []string
}

// partitions is ordered so that, for a suffix two partitions share (amazonaws.com, api.aws),
// the first is the one a host without a region belongs to: iam.amazonaws.com is aws, not
// aws-us-gov. The region prefixes do not overlap ("us-iso-" is not a prefix of
// "us-isob-east-1").
var partitions = []partition{
	{id: "aws", suffixes: []string{"amazonaws.com", "api.aws", "on.aws"}},
	{id: "aws-us-gov", regionPrefix: "us-gov-", suffixes: []string{"amazonaws.com", "api.aws", "on.aws"}},
	{id: "aws-cn", regionPrefix: "cn-", suffixes: []string{"amazonaws.com.cn", "api.amazonwebservices.com.cn", "on.amazonwebservices.com.cn"}},
	{id: "aws-eusc", regionPrefix: "eusc-", suffixes: []string{"amazonaws.eu", "api.amazonwebservices.eu", "on.amazonwebservices.eu"}},
	{id: "aws-iso", regionPrefix: "us-iso-", suffixes: []string{"c2s.ic.gov", "api.aws.ic.gov"}},
	{id: "aws-iso-b", regionPrefix: "us-isob-", suffixes: []string{"sc2s.sgov.gov", "api.aws.scloud"}},
	{id: "aws-iso-e", regionPrefix: "eu-isoe-", suffixes: []string{"cloud.adc-e.uk", "api.cloud-aws.adc-e.uk"}},
	{id: "aws-iso-f", regionPrefix: "us-isof-", suffixes: []string{"csp.hci.ic.gov", "api.aws.hci.ic.gov"}},
}

// regionPattern is what a region looks like: cc-direction-n, with the GovCloud and ISO
// infixes (us-gov-west-1, us-isob-east-1) and the European Sovereign Cloud's eusc-de-east-1.
// Infer uses it to tell a region label from a service label; it is not a list, so a region
// opened after this was written still works.
var regionPattern = regexp.MustCompile(`^(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)

func isRegion(s string) bool {
	// Most labels fail the cheap test, and Infer asks about several per host.
	return len(s) <= maxLabel && len(s) > 0 && '0' <= s[len(s)-1] && s[len(s)-1] <= '9' && regionPattern.MatchString(s)
}

// partitionOf returns the partition of a region the way the SDK does: by prefix, and aws
// for anything else.
func partitionOf(region string) *partition {
	for i := range partitions {
		if p := &partitions[i]; p.regionPrefix != "" && strings.HasPrefix(region, p.regionPrefix) {
			return p
		}
	}
	return &partitions[0]
}

func (p *partition) serves(suffix string) bool { return slices.Contains(p.suffixes, suffix) }

// splitSuffix finds the longest partition DNS suffix that the host of labels ends with,
// label-wise, and returns the labels before it.
func splitSuffix(labels []string) (suffix string, rest []string) {
	host := strings.Join(labels, ".")
	for i := range partitions {
		for _, s := range partitions[i].suffixes {
			if len(s) > len(suffix) && len(host) > len(s) && strings.HasSuffix(host, s) && host[len(host)-len(s)-1] == '.' {
				suffix = s
			}
		}
	}
	if suffix == "" {
		return "", nil
	}
	return suffix, labels[:len(labels)-strings.Count(suffix, ".")-1]
}

// globalPartition is the partition of a host without a region label: the first whose
// dnsSuffix or dualStackDnsSuffix is suffix, or aws-us-gov for the "us-gov" marker of
// iam.us-gov.amazonaws.com. Customer resources (on.aws) always name their region.
func globalPartition(suffix string, usGov bool) *partition {
	for i := range partitions {
		p := &partitions[i]
		if slices.Contains(p.suffixes[:2], suffix) && (!usGov || p.id == "aws-us-gov") {
			return p
		}
	}
	return nil
}
