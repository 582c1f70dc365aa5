package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestProfile drives awskeep through profiles of the AWS config file, as users set it up:
// one awskeep profile per key whose only credential setting is credential_process, and the
// client's own source_profile + role_arn chain on top of it:
//
//	[profile prod]
//	region = eu-west-1
//	credential_process = awskeep credential-process --profile prod
//	awskeep_key = pkcs11:token=aws;object=prod?...&pin-source=file:/home/u/pin
//	awskeep_access_key_id = AKIA...
//	awskeep_role_arn = arn:aws:iam::123456789012:role/deployer
//	role_session_name = hsm
//	services = moto
//
//	[services moto]
//	sts =
//	  endpoint_url = http://127.0.0.1:PORT
//
//	[profile prod-admin]
//	region = eu-west-1
//	source_profile = prod
//	role_arn = arn:aws:iam::123456789012:role/chained
//	role_session_name = admin
//
// For prod-admin the client (CLI v1, boto3) runs prod's credential_process, then calls
// AssumeRole for the chained role itself with those temporary credentials: awskeep does not
// see the chain. The chain profile needs its own region: the client does not take the
// source profile's. On AWS a trust policy naming the deployer role admits its sessions; moto
// compares the caller ARN literally, so the chained role trusts the session ARN
// arn:aws:sts::123456789012:assumed-role/deployer/hsm. CLI v2 2.9 is left out of the chain:
// it honours only --endpoint-url, which does not reach the STS client it builds for the
// role, so its AssumeRole would go to AWS.
func TestProfile(t *testing.T) {
	u := newUser(t)
	u.importKey("prod", world.alice.SecretAccessKey)
	chained := role(t, "chained", assumedRole("deployer", profileSession))
	closed := closedEndpoint(t)
	standard := []string{
		"awskeep_role_arn = " + world.roleARN,
		"role_session_name = " + profileSession,
		"region = eu-west-1",
	}
	u.writeConfig(t,
		awskeepProfile("prod", u.keyURI("prod"), append(standard, "services = moto")...),
		motoServices("moto", world.server.URL),
		"[profile prod-admin]\nregion = eu-west-1\nsource_profile = prod\nrole_arn = "+chained+"\nrole_session_name = admin\n",
		awskeepProfile("direct", u.keyURI("prod"), append(standard, "endpoint_url = "+world.server.URL)...),
		awskeepProfile("closed", u.keyURI("prod"), append(standard, "endpoint_url = "+closed)...),
		// services wins over endpoint_url, as in botocore.
		awskeepProfile("both", u.keyURI("prod"), append(standard, "endpoint_url = "+closed, "services = moto")...),
		awskeepProfile("timed", u.keyURI("prod"), append(standard, "services = moto", "duration_seconds = 1800")...),
		awskeepProfile("typo", u.keyURI("prod"), append(standard, "services = moto", "awskeep_foo = 1")...),
	)
	clis := awsCLIs(t)
	motoEnv := []string{"AWS_ENDPOINT_URL=" + world.server.URL}

	t.Run("credential_process profile in CLI v1", func(t *testing.T) {
		// v1 finds moto for its own call in AWS_ENDPOINT_URL; awskeep in the profile.
		for _, p := range []string{"prod", "direct"} {
			r := u.exec(clis["v1"], "", motoEnv, "--profile", p, "sts", "get-caller-identity", "--output", "text")
			mustSucceed(t, r, "aws --profile "+p+" sts get-caller-identity")
			if !strings.Contains(r.stdout, assumedRole("deployer", profileSession)) {
				t.Fatalf("aws --profile %s sts get-caller-identity = %q, want the deployer session", p, r.stdout)
			}
		}
	})

	t.Run("credential_process profile in CLI v2", func(t *testing.T) {
		// v2 2.9 takes the endpoint only from --endpoint-url; awskeep from the profile.
		r := u.exec(clis["v2"], "", []string{"AWS_PAGER="}, "--profile", "prod", "--endpoint-url", world.server.URL,
			"sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "aws --profile prod sts get-caller-identity")
		if !strings.Contains(r.stdout, assumedRole("deployer", profileSession)) {
			t.Fatalf("aws sts get-caller-identity = %q, want the deployer session", r.stdout)
		}
	})

	t.Run("source_profile chain in CLI v1", func(t *testing.T) {
		r := u.exec(clis["v1"], "", motoEnv, "--profile", "prod-admin", "sts", "get-caller-identity", "--output", "text")
		mustSucceed(t, r, "aws --profile prod-admin sts get-caller-identity")
		if !strings.Contains(r.stdout, assumedRole("chained", "admin")) {
			t.Fatalf("aws --profile prod-admin sts get-caller-identity = %q, want the chained role", r.stdout)
		}
	})

	t.Run("source_profile chain in boto3", func(t *testing.T) {
		script := `import boto3; print(boto3.Session(profile_name="prod-admin").client("sts").get_caller_identity()["Arn"])`
		r := u.exec(pyenvPython(t), "", motoEnv, "-c", script)
		mustSucceed(t, r, "boto3 get_caller_identity")
		if strings.TrimSpace(r.stdout) != assumedRole("chained", "admin") {
			t.Fatalf("boto3 says the caller is %q, want the chained role", r.stdout)
		}
	})

	t.Run("the profile's region", func(t *testing.T) {
		// The profile's region beats $AWS_REGION; --region beats the profile.
		r := u.run("", []string{"AWS_REGION=ap-south-1"}, "export", "--profile", "prod", "--format", "env")
		mustSucceed(t, r, "export --format env")
		for _, want := range []string{"export AWS_REGION='eu-west-1'\n", "export AWS_DEFAULT_REGION='eu-west-1'\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("export --profile prod does not print %q", strings.TrimSpace(want))
			}
		}
		r = u.run("", []string{"AWS_REGION=ap-south-1"}, "export", "--profile", "prod", "--format", "env", "--region", "ca-central-1")
		mustSucceed(t, r, "export --region")
		if !strings.Contains(r.stdout, "export AWS_REGION='ca-central-1'\n") {
			t.Fatal("--region does not override the profile's region")
		}
		// Those credentials came from an STS call signed for the region: they work.
		out := u.run("", nil, "export", "--profile", "prod", "--format", "json", "--region", "ca-central-1")
		mustSucceed(t, out, "export --format json")
		if got := callerARN(t, u.credentials(out.stdout)); got != assumedRole("deployer", profileSession) {
			t.Fatalf("caller = %q", got)
		}
	})

	t.Run("the profile's STS endpoint", func(t *testing.T) {
		// No endpoint in the environment nor on the command line: only the profile's
		// [services moto] section says where STS is.
		before := stsCalls(t)
		r := u.run("", nil, "credential-process", "--profile", "prod", "--no-cache")
		mustSucceed(t, r, "credential-process --profile prod")
		if stsCalls(t) == before {
			t.Fatal("moto logged no STS call")
		}
		if got := callerARN(t, u.credentials(r.stdout)); got != assumedRole("deployer", profileSession) {
			t.Fatalf("caller = %q", got)
		}
		// A profile endpoint_url on a closed port fails, even with moto in
		// $AWS_ENDPOINT_URL: the profile is read, and beats the environment.
		r = u.run("", motoEnv, "credential-process", "--profile", "closed", "--no-cache")
		mustFailClearly(t, r, "STS", strings.TrimPrefix(closed, "http://"))
		t.Logf("closed endpoint: %s", strings.TrimSpace(r.stderr))
		// [services] beats endpoint_url in the same profile.
		mustSucceed(t, u.run("", nil, "credential-process", "--profile", "both", "--no-cache"), "credential-process --profile both")
	})

	t.Run("flags override the profile", func(t *testing.T) {
		r := u.run("", nil, "credential-process", "--profile", "closed", "--no-cache", "--endpoint-url", world.server.URL)
		mustSucceed(t, r, "credential-process --profile closed --endpoint-url moto")
		if got := callerARN(t, u.credentials(r.stdout)); got != assumedRole("deployer", profileSession) {
			t.Fatalf("caller = %q", got)
		}
		other := role(t, "profile-override", world.alice.ARN)
		r = u.run("", nil, "credential-process", "--profile", "prod", "--no-cache",
			"--role-arn", other, "--role-session-name", "flagged")
		mustSucceed(t, r, "credential-process --profile prod --role-arn")
		if got := callerARN(t, u.credentials(r.stdout)); got != assumedRole("profile-override", "flagged") {
			t.Fatalf("caller = %q, want the role and session of the flags", got)
		}
	})

	t.Run("duration from the profile and --duration", func(t *testing.T) {
		for _, tc := range []struct {
			flags []string
			want  time.Duration
		}{
			{nil, 30 * time.Minute}, // duration_seconds = 1800
			{[]string{"--duration", "3600"}, time.Hour},
			{[]string{"--duration", "1h"}, time.Hour},
			{[]string{"--duration=90m"}, 90 * time.Minute},
		} {
			args := append([]string{"credential-process", "--profile", "timed", "--no-cache"}, tc.flags...)
			start := time.Now()
			r := u.run("", nil, args...)
			mustSucceed(t, r, strings.Join(args, " "))
			c := u.credentials(r.stdout)
			// moto sets Expiration to the time of the call plus DurationSeconds.
			if left := c.Expiration.Sub(start); left < tc.want-time.Minute || left > tc.want+time.Minute {
				t.Errorf("%v: credentials live %v, want %v", tc.flags, left.Round(time.Second), tc.want)
			}
			if got := callerARN(t, c); got != assumedRole("deployer", profileSession) {
				t.Fatalf("caller = %q", got)
			}
		}
	})

	t.Run("unknown awskeep_ setting", func(t *testing.T) {
		r := u.run("", nil, "credential-process", "--profile", "typo")
		mustFailClearly(t, r, u.configPath()+":"+strconv.Itoa(u.lineOf(t, "awskeep_foo")), "awskeep_foo")
		t.Logf("unknown setting: %s", strings.TrimSpace(r.stderr))
		// The AWS CLI shows awskeep's message.
		cli := u.exec(clis["v1"], "", motoEnv, "--profile", "typo", "sts", "get-caller-identity")
		if cli.code == 0 || !strings.Contains(cli.stderr, "awskeep_foo") {
			t.Fatalf("aws --profile typo: exit %d, stderr:\n%s", cli.code, cli.stderr)
		}
	})

	t.Run("missing profile", func(t *testing.T) {
		r := u.run("", nil, "credential-process", "--profile", "nope")
		mustFailClearly(t, r, u.configPath(), `"nope"`)
		t.Logf("missing profile: %s", strings.TrimSpace(r.stderr))
		missing := u.home + "/no-such-config"
		r = u.run("", []string{"AWS_CONFIG_FILE=" + missing}, "credential-process", "--profile", "prod")
		mustFailClearly(t, r, missing)
		t.Logf("missing file: %s", strings.TrimSpace(r.stderr))
	})

	t.Run("debug log of a cache miss", func(t *testing.T) {
		r := u.run("", nil, "--debug", "credential-process", "--profile", "prod", "--no-cache")
		mustSucceed(t, r, "credential-process --debug")
		u.checkLog(t, r, u.credentials(r.stdout), "credential-process --debug")
		r = u.run("", []string{"AWSKEEP_LOG_LEVEL=debug"}, "export", "--profile", "timed", "--format", "json", "--no-cache")
		mustSucceed(t, r, "AWSKEEP_LOG_LEVEL=debug export")
		u.checkLog(t, r, u.credentials(r.stdout), "AWSKEEP_LOG_LEVEL=debug export")
	})

	t.Run("no file holds a secret", func(t *testing.T) {
		// The CLIs' own caches hold the chained role's credentials, never awskeep's.
		for _, p := range []string{"prod", "timed"} {
			u.credentials(u.run("", nil, "credential-process", "--profile", p).stdout)
		}
		u.checkFiles(t)
	})
}
