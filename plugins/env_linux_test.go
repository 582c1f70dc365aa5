package plugins_test

import (
	"strconv"
	"testing"

	"github.com/awskeep/awskeep/plugins"
)

// TestPluginEnvironmentAWSPolicy: of the AWS SDK's variables a plugin sees the settings
// that hold no secret and do not choose its AWS identity; the rest only when listed in
// $AWSKEEP_PLUGIN_ENV, and the keys never.
func TestPluginEnvironmentAWSPolicy(t *testing.T) {
	host := map[string]string{
		"AWS_REGION":                         "eu-west-1",
		"AWS_DEFAULT_REGION":                 "eu-west-2",
		"AWS_CA_BUNDLE":                      "/etc/ssl/corp.pem",
		"AWS_EC2_METADATA_DISABLED":          "true",
		"AWS_ENDPOINT_URL_KMS":               "http://127.0.0.1:4566",
		"AWS_ENDPOINT_URL":                   "http://127.0.0.1:8321", // e.g. awskeep proxy's, for clients
		"AWS_PROFILE":                        "prod-via-awskeep",
		"AWS_CONFIG_FILE":                    "/home/u/.aws/awskeep-config",
		"AWS_SHARED_CREDENTIALS_FILE":        "/home/u/.aws/kms-credentials",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9911/creds",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT":  "http://127.0.0.1:9912/",
		"AWS_ACCESS_KEY_ID":                  "AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY":              "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		plugins.PluginEnvVar:                 "AWS_SHARED_CREDENTIALS_FILE AWS_SECRET_ACCESS_KEY",
	}
	for k, v := range host {
		t.Setenv(k, v)
	}
	p, err := launch(t, "errors")
	if err != nil {
		t.Fatal(err)
	}
	env := environOf(t, pluginPid(t, p))
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CA_BUNDLE", "AWS_EC2_METADATA_DISABLED",
		"AWS_ENDPOINT_URL_KMS", "AWS_SHARED_CREDENTIALS_FILE"} {
		if env[k] != host[k] {
			t.Errorf("plugin environment: %s=%q, want %q", k, env[k], host[k])
		}
	}
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if v, ok := env[k]; ok {
			t.Errorf("plugin environment has %s=%q", k, v)
		}
	}
}

// TestPluginDepthMarker: every plugin gets $AWSKEEP_PLUGIN_DEPTH one deeper than its host,
// whatever the host's environment, $AWSKEEP_PLUGIN_ENV or LaunchOptions.Env say.
func TestPluginDepthMarker(t *testing.T) {
	for _, tt := range []struct {
		host string
		want int
	}{{"", 1}, {"1", 2}, {"5", 6}, {"-3", plugins.MaxDepth + 2}, {"one", plugins.MaxDepth + 2}} {
		t.Run("host="+tt.host, func(t *testing.T) {
			t.Setenv(plugins.DepthEnvVar, tt.host)
			t.Setenv(plugins.PluginEnvVar, plugins.DepthEnvVar)
			p, err := launch(t, "errors", func(o *plugins.LaunchOptions) { o.Env = append(o.Env, plugins.DepthEnvVar+"=0") })
			if err != nil {
				t.Fatal(err)
			}
			if got := environOf(t, pluginPid(t, p))[plugins.DepthEnvVar]; got != strconv.Itoa(tt.want) {
				t.Fatalf("plugin's %s = %q, want %d", plugins.DepthEnvVar, got, tt.want)
			}
		})
	}
}

func TestPluginDepth(t *testing.T) {
	for v, want := range map[string]int{"": 0, "0": 0, "1": 1, "2": 2, "-1": plugins.MaxDepth + 1, "x": plugins.MaxDepth + 1, "99999": plugins.MaxDepth + 1} {
		if got := plugins.PluginDepth(func(string) string { return v }); got != want {
			t.Errorf("PluginDepth(%q) = %d, want %d", v, got, want)
		}
	}
}
