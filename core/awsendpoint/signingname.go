package awsendpoint

import "strings"

// urlUse says what URL makes of an exception.
type urlUse uint8

const (
	inferOnly urlUse = iota // URL ignores the row
	forURL                  // URL uses this prefix for the signing name
	noURL                   // URL refuses the signing name: several APIs, or a resource ID, share it
)

// exception is an endpoint prefix that does not sign with its own name.
type exception struct {
	// prefix is the host's labels before the region, without FIPS and dual-stack markers.
	// A leading "*." stands for one or more labels of a customer's resource (an account
	// endpoint, a database instance).
	prefix string
	// name is the SigV4 signing name; "" when requests to the host are not SigV4-signed,
	// and note says why.
	name string
	url  urlUse
	note string
}

// exceptions lists the endpoint prefixes whose signing name is not their last label. The
// ones from the SDK are the services whose model's signingName differs from its
// endpointPrefix (aws-sdk-go-v2 and botocore generate both from the same Smithy models)
// and the credentialScope.service overrides of the endpoints model; the others are hosts
// the AWS documentation gives outside the models (function URLs, AppSync GraphQL
// endpoints, OpenSearch domains, RDS and Neptune IAM database authentication).
//
// Every other host signs as the last label of its prefix: runtime.sagemaker as
// "sagemaker", ID.execute-api as "execute-api", bucket.s3 as "s3". URL maps a signing name
// back to the row marked forURL, refuses one marked noURL, and otherwise uses the name
// itself as the prefix.
var exceptions = []exception{
	// Amazon S3 (S3 User Guide: "Virtual hosting of buckets", access points, S3 Control).
	{prefix: "s3-control", name: "s3"},
	{prefix: "s3-accesspoint", name: "s3"},
	{prefix: "s3-external-1", name: "s3"},
	{prefix: "s3express-control", name: "s3express", url: forURL},
	{prefix: "s3-website", note: "S3 website endpoints take anonymous requests only"},
	{prefix: "s3-global", note: "multi-Region access points are signed with SigV4A"},

	// Amazon SES: the API, SMTP and Mail Manager all sign as ses.
	{prefix: "email", name: "ses", url: forURL},
	{prefix: "email-smtp", name: "ses"},
	{prefix: "mail-manager", name: "ses"},

	// AWS IoT. Account-specific data endpoints are PREFIX-ats.iot.REGION (PREFIX.ats.iot in
	// China); the control plane iot.REGION signs as iot.
	{prefix: "data-ats.iot", name: "iotdata", url: forURL},
	{prefix: "data.iot", name: "iotdata"},
	{prefix: "*.iot", name: "iotdata"},
	{prefix: "data.jobs.iot", name: "iot-jobs-data", url: forURL},
	{prefix: "api.tunneling.iot", name: "IoTSecuredTunneling", url: forURL},
	{prefix: "api.iot-tunneling", name: "IoTSecuredTunneling"},
	{prefix: "greengrass-ats.iot", name: "greengrass"},
	{prefix: "credentials.iot", note: "the IoT credentials provider authenticates devices with X.509 certificates"},
	{prefix: "data.tunneling.iot", note: "IoT secure tunnels authenticate with access tokens"},
	{prefix: "api.iotwireless", name: "iotwireless", url: forURL},
	{prefix: "api.iotdeviceadvisor", name: "iotdeviceadvisor", url: forURL},
	{prefix: "api.iotmanagedintegrations", name: "iotmanagedintegrations", url: forURL},

	// Endpoints in front of customer code.
	{prefix: "lambda-url", name: "lambda"},
	{prefix: "appsync-api", name: "appsync"},
	{prefix: "appsync-realtime-api", name: "appsync"},
	{prefix: "participant.connect", name: "execute-api", url: noURL}, // and API Gateway's ID.execute-api

	// Operations whose model gives a hostPrefix (the Smithy endpoint trait) that changes
	// the last label: sync-states for StartSyncExecution, stream-logs for StartLiveTail.
	{prefix: "sync-states", name: "states"},
	{prefix: "stream-logs", name: "logs"},
	{prefix: "data-servicediscovery", name: "servicediscovery"},
	{prefix: "data-lakeformation", name: "lakeformation"},
	{prefix: "query-lakeformation", name: "lakeformation"},
	{prefix: "runtime-medical-imaging", name: "medical-imaging"},
	{prefix: "analytics-omics", name: "omics"},
	{prefix: "control-storage-omics", name: "omics"},
	{prefix: "storage-omics", name: "omics"},
	{prefix: "tags-omics", name: "omics"},
	{prefix: "workflows-omics", name: "omics"},

	// Containers and machine learning.
	{prefix: "api.ecr", name: "ecr", url: forURL},
	{prefix: "api.ecr-public", name: "ecr-public", url: forURL},
	{prefix: "dkr.ecr", note: "the ECR Docker registry takes docker login credentials"},
	{prefix: "dkr-ecr", note: "the ECR Docker registry takes docker login credentials"},
	{prefix: "api.sagemaker", name: "sagemaker", url: forURL},
	{prefix: "bedrock-runtime", name: "bedrock"},
	{prefix: "bedrock-agent", name: "bedrock"},
	{prefix: "bedrock-agent-runtime", name: "bedrock"},
	{prefix: "bedrock-data-automation", name: "bedrock"},
	{prefix: "bedrock-data-automation-runtime", name: "bedrock"},
	{prefix: "bedrock-agentcore-control", name: "bedrock-agentcore"},
	{prefix: "runtime.lex", name: "lex", url: noURL},
	{prefix: "models.lex", name: "lex", url: noURL},
	{prefix: "runtime-v2-lex", name: "lex", url: noURL},
	{prefix: "models-v2-lex", name: "lex", url: noURL},
	{prefix: "forecastquery", name: "forecast"},
	{prefix: "personalize-events", name: "personalize"},
	{prefix: "personalize-runtime", name: "personalize"},

	// Databases and search. RDS and Neptune database hosts (NAME.ID.REGION.rds.amazonaws.com)
	// take IAM authentication tokens presigned as rds-db and neptune-db.
	{prefix: "*.rds", name: "rds-db", url: noURL},
	{prefix: "*.neptune", name: "neptune-db", url: noURL},
	{prefix: "aos", name: "es"}, // OpenSearch on api.aws and on.aws
	{prefix: "memory-db", name: "memorydb", url: forURL},
	{prefix: "cassandra-streams", name: "cassandra"},
	{prefix: "ingest.timestream", name: "timestream", url: noURL},
	{prefix: "query.timestream", name: "timestream", url: noURL},
	{prefix: "cloudsearchdomain", name: "cloudsearch"},

	// AWS Marketplace: every API signs as aws-marketplace.
	{prefix: "agreement-marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "catalog.marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "deployment-marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "discovery-marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "entitlement.marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "entitlement-marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "metering.marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "metering-marketplace", name: "aws-marketplace", url: noURL},
	{prefix: "reporting-marketplace", name: "aws-marketplace", url: noURL},

	// Amazon Chime SDK: every API signs as chime.
	{prefix: "identity-chime", name: "chime", url: noURL},
	{prefix: "media-pipelines-chime", name: "chime", url: noURL},
	{prefix: "meetings-chime", name: "chime", url: noURL},
	{prefix: "messaging-chime", name: "chime", url: noURL},
	{prefix: "voice-chime", name: "chime", url: noURL},

	// The rest of the SDK's models whose signingName is not their endpoint prefix.
	{prefix: "queue", name: "sqs"}, // queue.amazonaws.com, REGION.queue.amazonaws.com
	{prefix: "admin.wickr", name: "wickr", url: forURL},
	{prefix: "agent-registry-control", name: "agent-registry"},
	{prefix: "api.detective", name: "detective", url: forURL},
	{prefix: "api.mediatailor", name: "mediatailor", url: forURL},
	{prefix: "api.pricing", name: "pricing", url: forURL},
	{prefix: "appconfigdata", name: "appconfig"},
	{prefix: "appstream2", name: "appstream", url: forURL},
	{prefix: "cloudhsmv2", name: "cloudhsm", url: forURL},
	{prefix: "contact-lens", name: "connect"},
	{prefix: "controlplane.payment-cryptography", name: "payment-cryptography", url: forURL},
	{prefix: "data-signer", name: "signer"},
	{prefix: "data.qapps", name: "qapps", url: forURL},
	{prefix: "ivsrealtime", name: "ivs"},
	{prefix: "migrationhub-config", name: "mgh"},
	{prefix: "mturk-requester-sandbox", name: "mturk-requester"},
	{prefix: "oidc", name: "sso-oauth", url: forURL},
	{prefix: "partnercentral-prm", name: "partnercentral", url: forURL},
	{prefix: "pinpoint", name: "mobiletargeting", url: forURL},
	{prefix: "portal.sso", name: "awsssoportal", url: forURL},
	{prefix: "servicecatalog-appregistry", name: "servicecatalog"},
	{prefix: "sms-voice.pinpoint", name: "sms-voice"},
}

var (
	byPrefix = map[string]*exception{} // exceptions by prefix
	byName   = map[string]*exception{} // the row URL uses, or an ambiguous one, by signing name
)

func init() {
	for i := range exceptions {
		e := &exceptions[i]
		byPrefix[e.prefix] = e
		if e.url != inferOnly {
			byName[e.name] = e
		}
	}
}

// lookup finds the exception for the labels before the region. It tries their tails from
// the longest to the shortest and, at each length, "*.tail" (the tail after at least one
// more label) before "tail": so data.iot and data.jobs.iot name their APIs, any other
// ID.iot is an account's data endpoint, and iot alone, which no row names, is the control
// plane. key is the prefix the host's endpoint is listed under in globals: the matched
// tail, or the last label.
func lookup(labels []string) (e *exception, key string) {
	for n := len(labels); n > 0; n-- {
		tail := strings.Join(labels[len(labels)-n:], ".")
		if n < len(labels) {
			if e := byPrefix["*."+tail]; e != nil {
				return e, tail
			}
		}
		if e := byPrefix[tail]; e != nil {
			return e, tail
		}
	}
	return nil, labels[len(labels)-1]
}
