package awsendpoint

// global is a host without a region, or one endpoint for a whole partition, and the region
// requests to it are signed for, as the endpoints model lists them (a partitionEndpoint
// with a credentialScope region; "AWS service endpoints", global endpoints).
type global struct {
	prefix    string // endpoint prefix, as lookup returns it
	partition string
	region    string // the region requests are signed for
	// host is the endpoint URL returns: for every region of the partition, or, for a
	// regional service, for region only. "" leaves URL to build PREFIX.REGION.dnsSuffix,
	// as aws-sdk-go-v2 does by default for sts and s3 in us-east-1.
	host string
	// regional is set for a service that has an endpoint in each region besides the
	// region-less host (sts.amazonaws.com, bucket.s3.amazonaws.com): Infer takes the region
	// a host names, and the row's only for a host that names none.
	regional bool
}

// globals are generated from the endpoints model (botocore/data/endpoints.json, which
// aws-sdk-go-v2's endpoint rules agree with for these): every service with a
// partitionEndpoint, except chime (its signing name is shared by the regional Chime SDK
// APIs), codecatalyst (bearer tokens) and importexport (signature version 2); then the
// region-less hosts of regional services.
var globals = []global{
	{"account", "aws", "us-east-1", "account.us-east-1.amazonaws.com", false},
	{"billingconductor", "aws", "us-east-1", "billingconductor.us-east-1.amazonaws.com", false},
	{"budgets", "aws", "us-east-1", "budgets.amazonaws.com", false},
	{"ce", "aws", "us-east-1", "ce.us-east-1.amazonaws.com", false},
	{"cloudfront", "aws", "us-east-1", "cloudfront.amazonaws.com", false},
	{"iam", "aws", "us-east-1", "iam.amazonaws.com", false},
	{"networkmanager", "aws", "us-west-2", "networkmanager.us-west-2.amazonaws.com", false},
	{"notifications-contacts", "aws", "us-east-1", "notifications-contacts.us-east-1.api.aws", false},
	{"organizations", "aws", "us-east-1", "organizations.us-east-1.amazonaws.com", false},
	{"route53", "aws", "us-east-1", "route53.amazonaws.com", false},
	{"savingsplans", "aws", "us-east-1", "savingsplans.amazonaws.com", false},
	{"shield", "aws", "us-east-1", "shield.us-east-1.amazonaws.com", false},
	{"support", "aws", "us-east-1", "support.us-east-1.amazonaws.com", false},
	{"tax", "aws", "us-east-1", "tax.us-east-1.amazonaws.com", false},
	{"waf", "aws", "us-east-1", "waf.amazonaws.com", false},
	{"account", "aws-cn", "cn-northwest-1", "account.cn-northwest-1.amazonaws.com.cn", false},
	{"budgets", "aws-cn", "cn-northwest-1", "budgets.amazonaws.com.cn", false},
	{"ce", "aws-cn", "cn-northwest-1", "ce.cn-northwest-1.amazonaws.com.cn", false},
	{"cloudfront", "aws-cn", "cn-northwest-1", "cloudfront.cn-northwest-1.amazonaws.com.cn", false},
	{"iam", "aws-cn", "cn-north-1", "iam.cn-north-1.amazonaws.com.cn", false},
	{"organizations", "aws-cn", "cn-northwest-1", "organizations.cn-northwest-1.amazonaws.com.cn", false},
	{"route53", "aws-cn", "cn-northwest-1", "route53.amazonaws.com.cn", false},
	{"support", "aws-cn", "cn-north-1", "support.cn-north-1.amazonaws.com.cn", false},
	{"iam", "aws-us-gov", "us-gov-west-1", "iam.us-gov.amazonaws.com", false},
	{"networkmanager", "aws-us-gov", "us-gov-west-1", "networkmanager.us-gov-west-1.amazonaws.com", false},
	{"organizations", "aws-us-gov", "us-gov-west-1", "organizations.us-gov-west-1.amazonaws.com", false},
	{"route53", "aws-us-gov", "us-gov-west-1", "route53.us-gov.amazonaws.com", false},
	{"support", "aws-us-gov", "us-gov-west-1", "support.us-gov-west-1.amazonaws.com", false},
	{"budgets", "aws-iso", "us-iso-east-1", "budgets.c2s.ic.gov", false},
	{"ce", "aws-iso", "us-iso-east-1", "ce.us-iso-east-1.c2s.ic.gov", false},
	{"iam", "aws-iso", "us-iso-east-1", "iam.us-iso-east-1.c2s.ic.gov", false},
	{"organizations", "aws-iso", "us-iso-east-1", "organizations.us-iso-east-1.c2s.ic.gov", false},
	{"route53", "aws-iso", "us-iso-east-1", "route53.c2s.ic.gov", false},
	{"support", "aws-iso", "us-iso-east-1", "support.us-iso-east-1.c2s.ic.gov", false},
	{"budgets", "aws-iso-b", "us-isob-east-1", "budgets.global.sc2s.sgov.gov", false},
	{"ce", "aws-iso-b", "us-isob-east-1", "ce.us-isob-east-1.sc2s.sgov.gov", false},
	{"iam", "aws-iso-b", "us-isob-east-1", "iam.us-isob-east-1.sc2s.sgov.gov", false},
	{"organizations", "aws-iso-b", "us-isob-east-1", "organizations.us-isob-east-1.sc2s.sgov.gov", false},
	{"route53", "aws-iso-b", "us-isob-east-1", "route53.sc2s.sgov.gov", false},
	{"support", "aws-iso-b", "us-isob-east-1", "support.us-isob-east-1.sc2s.sgov.gov", false},
	{"budgets", "aws-iso-e", "eu-isoe-west-1", "budgets.global.cloud.adc-e.uk", false},
	{"organizations", "aws-iso-e", "eu-isoe-west-1", "organizations.eu-isoe-west-1.cloud.adc-e.uk", false},
	{"route53", "aws-iso-e", "eu-isoe-west-1", "route53.cloud.adc-e.uk", false},
	{"savingsplans", "aws-iso-e", "eu-isoe-west-1", "savingsplans.cloud.adc-e.uk", false},
	{"budgets", "aws-iso-f", "us-isof-south-1", "budgets.global.csp.hci.ic.gov", false},
	{"ce", "aws-iso-f", "us-isof-south-1", "ce.us-isof-south-1.csp.hci.ic.gov", false},
	{"iam", "aws-iso-f", "us-isof-south-1", "iam.us-isof-south-1.csp.hci.ic.gov", false},
	{"organizations", "aws-iso-f", "us-isof-south-1", "organizations.us-isof-south-1.csp.hci.ic.gov", false},
	{"route53", "aws-iso-f", "us-isof-south-1", "route53.csp.hci.ic.gov", false},
	{"savingsplans", "aws-iso-f", "us-isof-south-1", "savingsplans.csp.hci.ic.gov", false},

	// sts.amazonaws.com is STS's global endpoint; s3.amazonaws.com and
	// s3-external-1.amazonaws.com are in "Virtual hosting of buckets"; queue.amazonaws.com is
	// SQS's legacy endpoint. AWS Health has regional endpoints besides global.health.
	{"sts", "aws", "us-east-1", "", true},
	{"s3", "aws", "us-east-1", "", true},
	{"s3-external-1", "aws", "us-east-1", "", true},
	{"queue", "aws", "us-east-1", "", true},
	{"sdb", "aws", "us-east-1", "sdb.amazonaws.com", true},
	{"health", "aws", "us-east-1", "global.health.amazonaws.com", true},
	{"health", "aws-cn", "cn-northwest-1", "global.health.amazonaws.com.cn", true},
	{"health", "aws-us-gov", "us-gov-west-1", "global.health.us-gov.amazonaws.com", true},
}

// globalOf returns the global endpoint of prefix in p, or nil.
func globalOf(prefix string, p *partition) *global {
	for i := range globals {
		if g := &globals[i]; g.prefix == prefix && g.partition == p.id {
			return g
		}
	}
	return nil
}
