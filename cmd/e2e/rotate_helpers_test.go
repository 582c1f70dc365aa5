package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/awskeep/awskeep/core/credproc"
	"github.com/awskeep/awskeep/core/mototest"
)

// Key rotation end to end (issue 16, part 1): awskeep-full built with the test hook (-tags
// awskeep_testhooks, which lets AWSKEEP_TEST_ROTATE_CRASH_AFTER kill it with SIGKILL after
// a named step), the PKCS#11 plugin on SoftHSM2 tokens, and a moto of each test's own that
// refuses inactive keys (mototest.StartRefusingInactive) and records the secrets it issues
// so that the tests can search for the new one.

var (
	rotBuild    sync.Once
	rotBin      string
	rotBuildErr error
)

// crashEnv is core/rotate's CrashEnv (unexported there outside the test-hook build).
const crashEnv = "AWSKEEP_TEST_ROTATE_CRASH_AFTER"

// buildRotateHooks builds awskeep-full with the rotation test hook, once for the package.
func buildRotateHooks(t *testing.T) string {
	t.Helper()
	rotBuild.Do(func() {
		dir := filepath.Join(filepath.Dir(pluginDir), "rotate-hooks")
		cmd := exec.Command("go", "build", "-tags", "awskeep_testhooks", "-o", dir+"/", "github.com/awskeep/awskeep/cmd/awskeep-full")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			rotBuildErr = fmt.Errorf("go build -tags awskeep_testhooks awskeep-full: %v\n%s", err, out)
			return
		}
		rotBin = filepath.Join(dir, "awskeep-full")
	})
	if rotBuildErr != nil {
		t.Fatal(rotBuildErr)
	}
	return rotBin
}

// rotMoto is one test's moto: an admin that inspects IAM, and IAM users whose keys rotate,
// allowed to manage their own keys and to assume one role.
type rotMoto struct {
	server  *mototest.Server
	admin   mototest.User
	users   map[string]mototest.User
	roleARN string
}

// rotUserSpec says how to make one rotating user before authentication is turned on.
type rotUserSpec struct {
	name string
	// noIAM gives the user STS only: every IAM call is AccessDenied.
	noIAM bool
	// secondKey gives the user a second access key (Active).
	secondKey bool
}

func startRotMoto(t *testing.T, specs ...rotUserSpec) *rotMoto {
	t.Helper()
	ctx := context.Background()
	m := &rotMoto{server: mototest.StartRefusingInactive(t), users: map[string]mototest.User{}}
	var err error
	if m.admin, err = m.server.CreateUser(ctx, "admin", true); err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, s := range specs {
		u, err := m.server.CreateUser(ctx, s.name, false)
		if err != nil {
			t.Fatal(err)
		}
		policy := mototest.SelfKeyPolicy()
		if s.noIAM {
			policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}`
		}
		if err := m.server.PutUserPolicy(ctx, s.name, "rotation", policy); err != nil {
			t.Fatal(err)
		}
		if s.secondKey {
			if _, err := m.server.CreateAccessKey(ctx, mototest.User{}, s.name); err != nil {
				t.Fatal(err)
			}
		}
		m.users[s.name] = u
		arns = append(arns, u.ARN)
	}
	if m.roleARN, err = m.server.CreateRole(ctx, "rotated", arns...); err != nil {
		t.Fatal(err)
	}
	if err := m.server.EnableAuth(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// keys lists name's access keys as the admin sees them.
func (m *rotMoto) keys(t *testing.T, name string) map[string]string {
	t.Helper()
	ks, err := m.server.ListAccessKeys(context.Background(), m.admin, name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, k := range ks {
		out[k.ID] = k.Status
	}
	return out
}

// rotUser is one machine whose profile "rot" holds the key of IAM user name.
type rotUser struct {
	*user
	m      *rotMoto
	name   string
	oldID  string
	config string
}

// rotConfigRest is the rest of the config file, which rotation must leave byte for byte.
const rotConfigRest = "\n# another profile, with comments\n[profile other]\nregion = eu-west-1 ; kept\n\n[default]\nregion = us-west-2\n"

// newRotUser gives a fresh user a SoftHSM token holding IAM user name's key as object
// "prod" and a profile "rot" for it (AssumeRole into the test's role).
func newRotUser(t *testing.T, m *rotMoto, name string) *rotUser {
	t.Helper()
	u := newUser(t)
	return newRotUserKey(t, m, name, u, u.keyURI("prod"))
}

// newRotUserKey is newRotUser for the key at uri on u's machine (any backend).
func newRotUserKey(t *testing.T, m *rotMoto, name string, u *user, uri string) *rotUser {
	t.Helper()
	iu := m.users[name]
	u.secrets = append(u.secrets, iu.SecretAccessKey, m.admin.SecretAccessKey)
	mustSucceed(t, u.run(iu.SecretAccessKey+"\n", nil, "import", "--key", uri), "import")
	ru := &rotUser{user: u, m: m, name: name, oldID: iu.AccessKeyID, config: filepath.Join(u.home, "aws-config")}
	profile := fmt.Sprintf("# the rotating profile\n[profile rot]\nregion = us-east-1\nendpoint_url = %s\n"+
		"credential_process = %s credential-process --profile rot\nawskeep_key = %s\nawskeep_access_key_id = %s\n"+
		"awskeep_role_arn = %s\nrole_session_name = rotated\n",
		m.server.URL, awskeep, uri, iu.AccessKeyID, m.roleARN)
	if err := os.WriteFile(ru.config, []byte(profile+rotConfigRest), 0o644); err != nil {
		t.Fatal(err)
	}
	return ru
}

// rotate runs the hook-built awskeep-full rotate --profile rot with extra arguments.
func (ru *rotUser) rotate(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return ru.exec(buildRotateHooks(t), "", env, append([]string{"rotate", "--profile", "rot"}, args...)...)
}

// configText reads the config file.
func (ru *rotUser) configText(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(ru.config)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// profileKey returns the access key id and key URI the profile names now.
func (ru *rotUser) profileKey(t *testing.T) (id, uri string) {
	t.Helper()
	text := ru.configText(t)
	idm := regexp.MustCompile(`(?m)^awskeep_access_key_id = (\S+)$`).FindStringSubmatch(text)
	urim := regexp.MustCompile(`(?m)^awskeep_key = (\S+)$`).FindStringSubmatch(text)
	if idm == nil || urim == nil {
		t.Fatalf("the profile lost awskeep_key or awskeep_access_key_id:\n%s", text)
	}
	if !strings.HasSuffix(text, rotConfigRest) {
		t.Fatalf("the rest of the config file changed:\n%s", text)
	}
	return idm[1], urim[1]
}

// profileWorks runs credential-process for the profile without the cache (so the device
// signs AssumeRole) and checks moto takes the credentials as the role's.
func (ru *rotUser) profileWorks(t *testing.T, what string) {
	t.Helper()
	r := ru.run("", nil, "credential-process", "--profile", "rot", "--no-cache")
	if r.code != 0 {
		t.Fatalf("%s: credential-process with the profile failed: %s", what, r.stderr)
	}
	c, err := credproc.Parse([]byte(r.stdout))
	if err != nil {
		t.Fatalf("%s: credential-process printed no credentials: %v", what, err)
	}
	ru.tokens = append(ru.tokens, c.SecretAccessKey, c.SessionToken)
	api := awssts.New(awssts.Options{
		Region: mototest.Region, BaseEndpoint: aws.String(ru.m.server.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
		}),
	})
	out, err := api.GetCallerIdentity(context.Background(), &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("%s: moto refused the profile's credentials: %v", what, err)
	}
	if want := ":assumed-role/rotated/rotated"; !strings.HasSuffix(aws.ToString(out.Arn), want) {
		t.Fatalf("%s: caller %s, want the role", what, aws.ToString(out.Arn))
	}
}

// keyExists says whether the user's token holds object.
func (ru *rotUser) keyExists(t *testing.T, object string) bool {
	t.Helper()
	r := ru.run("", nil, "keys", "describe", "--key", ru.keyURI(object))
	mustSucceed(t, r, "keys describe "+object)
	return strings.Contains(r.stdout, `"exists": true`)
}

// journals lists the rotation journals in the user's state directory.
func (ru *rotUser) journals(t *testing.T) []string {
	t.Helper()
	j, err := filepath.Glob(filepath.Join(ru.home, ".local", "state", "awskeep", "rotate-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// rotatedLine checks rotate's one line of output and returns the new key's id.
func rotatedLine(t *testing.T, r result, old string) string {
	t.Helper()
	mustSucceed(t, r, "rotate")
	m := regexp.MustCompile(`^rotated rot: ` + old + ` -> (AKIA[A-Z0-9]{16})( \(.*\))?\n$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("rotate printed %q, want one line rotated rot: %s -> NEW", r.stdout, old)
	}
	return m[1]
}

// checkRotated checks the state after a finished rotation from old to new: IAM holds new
// (Active) and, with keepOld, old Inactive, else nothing else; the profile names new on
// object prod-r2 and works; the old object is gone (kept with keepOld); no journal is
// left; the new secret is in no output (outs) and no file of the user's.
func (ru *rotUser) checkRotated(t *testing.T, old, new string, keepOld bool, outs ...result) {
	t.Helper()
	keys := ru.m.keys(t, ru.name)
	want := map[string]string{new: "Active"}
	if keepOld {
		want[old] = "Inactive"
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("IAM keys of %s = %v, want %v", ru.name, keys, want)
	}
	id, uri := ru.profileKey(t)
	if id != new || !strings.Contains(uri, "object=prod-r2?") || !strings.Contains(uri, "pin-source=file:"+ru.pinFile) {
		t.Fatalf("the profile names %s at %s, want %s at object prod-r2 with the same pin-source", id, uri, new)
	}
	ru.profileWorks(t, "after the rotation")
	if got := ru.keyExists(t, "prod"); got != keepOld {
		t.Fatalf("old object prod exists = %v, want %v", got, keepOld)
	}
	if !ru.keyExists(t, "prod-r2") {
		t.Fatal("the new object prod-r2 is not on the token")
	}
	if j := ru.journals(t); len(j) != 0 {
		t.Fatalf("journal left after a finished rotation: %v", j)
	}
	secret, err := ru.m.server.IssuedSecret(new)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range outs {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatal("rotate's output holds the new secret")
		}
	}
	notInFiles(t, ru.home, secret, "", "the new secret")
	notInFiles(t, ru.home, ru.m.users[ru.name].SecretAccessKey, "", "the old secret")
}
