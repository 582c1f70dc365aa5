package mototest

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/sigv4"
)

// moto 5.2.1 authenticates a request by finding its access key among the IAM users' keys
// (moto/iam/access_control.py, IAMUserAccessKey) and never looks at the key's status, so a
// key set Inactive with UpdateAccessKey goes on working. AWS refuses such a key with
// InvalidClientTokenId ("The security token included in the request is invalid"), and key
// rotation is only tested honestly against a server that does too. refuseInactiveShim is a
// Python wrapper that patches that one class and then runs moto_server's own main: a key
// whose status is not Active fails exactly as an unknown key does (moto's
// CreateAccessKeyFailure "InvalidId", which it answers as InvalidClientTokenId, HTTP 403).
//
// It also records every access key IAM creates, id and secret, in the file
// $AWSKEEP_MOTO_SECRETS_FILE (0600, in the server's own directory), so that a test can
// search its outputs and files for the secret of a key that only the program under test
// received (Server.IssuedSecret).
const refuseInactiveShim = `import os
import sys
from moto.iam import access_control, models

_init = access_control.IAMUserAccessKey.__init__


def _refuse_inactive(self, account_id, partition, access_key_id, headers):
    _init(self, account_id, partition, access_key_id, headers)
    for user in self.backend.list_users("/", None, None):
        for key in user.access_keys:
            if key.access_key_id == access_key_id and key.status != "Active":
                raise access_control.CreateAccessKeyFailure(reason="InvalidId")


access_control.IAMUserAccessKey.__init__ = _refuse_inactive

_secrets = os.environ.get("AWSKEEP_MOTO_SECRETS_FILE")
_create = models.IAMBackend.create_access_key


def _record(self, *args, **kwargs):
    key = _create(self, *args, **kwargs)
    if _secrets:
        fd = os.open(_secrets, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, (key.access_key_id + " " + key.secret_access_key + "\n").encode())
        os.close(fd)
    return key


models.IAMBackend.create_access_key = _record

from moto.server import main

sys.exit(main(sys.argv[1:]))
`

// ShimName is the file name of the wrapper StartRefusingInactive writes into its directory.
const ShimName = "moto_refuse_inactive.py"

// Python returns the Python interpreter that runs moto_server (the one in its #! line), or
// says how to install moto.
func Python() (string, error) {
	bin, err := Binary()
	if err != nil {
		return "", err
	}
	candidates := []string{bin}
	root := os.Getenv("PYENV_ROOT")
	if root == "" {
		root = filepath.Join(os.Getenv("HOME"), ".pyenv")
	}
	// A pyenv shim is a shell script; the real scripts name their interpreter.
	more, _ := filepath.Glob(filepath.Join(root, "versions", "*", "bin", "moto_server"))
	candidates = append(candidates, more...)
	for _, c := range candidates {
		if py := shebangPython(c); py != "" {
			return py, nil
		}
	}
	return "", fmt.Errorf("no Python interpreter found for moto_server (%s): install it with pip install 'moto[server]==5.2.1'", bin)
}

// shebangPython returns the interpreter of script's #! line when it is a Python that exists.
func shebangPython(script string) string {
	f, err := os.Open(script)
	if err != nil {
		return ""
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	line = strings.TrimSpace(strings.TrimPrefix(line, "#!"))
	fields := strings.Fields(line)
	if len(fields) != 1 || !strings.Contains(filepath.Base(fields[0]), "python") {
		return ""
	}
	if fi, err := os.Stat(fields[0]); err != nil || fi.Mode()&0o111 == 0 {
		return ""
	}
	return fields[0]
}

// StartRefusingInactive is Start for a moto_server that refuses access keys whose IAM
// status is Inactive, as AWS does (see refuseInactiveShim).
func StartRefusingInactive(t testing.TB) *Server {
	t.Helper()
	s, err := StartServerRefusingInactive(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartServerRefusingInactive is StartServer for a moto_server that refuses inactive
// access keys: it writes the wrapper into dir and runs it with moto's Python. Call Stop
// when done.
func StartServerRefusingInactive(ctx context.Context, dir string) (*Server, error) {
	py, err := Python()
	if err != nil {
		return nil, err
	}
	shim := filepath.Join(dir, ShimName)
	if err := os.WriteFile(shim, []byte(refuseInactiveShim), 0o600); err != nil {
		return nil, err
	}
	secrets := filepath.Join(dir, "issued-secrets")
	s, err := startServer(ctx, dir, []string{"AWSKEEP_MOTO_SECRETS_FILE=" + secrets}, py, shim)
	if err != nil {
		return nil, err
	}
	s.secrets = secrets
	return s, nil
}

// IssuedSecret returns the secret IAM gave access key id, for a server started with
// StartRefusingInactive (which records them), so that a test can check the secret of a key
// its program created appears nowhere it should not.
func (s *Server) IssuedSecret(id string) (string, error) {
	if s.secrets == "" {
		return "", fmt.Errorf("moto: only a server started with StartRefusingInactive records secrets")
	}
	data, err := os.ReadFile(s.secrets)
	if err != nil {
		return "", fmt.Errorf("moto: issued secrets: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, secret, ok := strings.Cut(line, " "); ok && k == id {
			return secret, nil
		}
	}
	return "", fmt.Errorf("moto: IAM issued no access key %s", id)
}

// AccessKey is an IAM access key as ListAccessKeys describes it.
type AccessKey struct {
	ID     string
	Status string // Active or Inactive
}

// ListAccessKeys lists userName's access keys, signed with as's key (after EnableAuth the
// bootstrap key no longer works; as must be allowed iam:ListAccessKeys).
func (s *Server) ListAccessKeys(ctx context.Context, as User, userName string) ([]AccessKey, error) {
	var out struct {
		Keys []struct {
			ID     string `xml:"AccessKeyId"`
			Status string `xml:"Status"`
		} `xml:"ListAccessKeysResult>AccessKeyMetadata>member"`
	}
	if err := s.iamAs(ctx, as, url.Values{"Action": {"ListAccessKeys"}, "UserName": {userName}}, &out); err != nil {
		return nil, err
	}
	keys := make([]AccessKey, 0, len(out.Keys))
	for _, k := range out.Keys {
		keys = append(keys, AccessKey(k))
	}
	return keys, nil
}

// CreateAccessKey gives userName another access key, signed with as's key (or with the
// bootstrap key while authentication is off, when as is the zero User).
func (s *Server) CreateAccessKey(ctx context.Context, as User, userName string) (User, error) {
	var key struct {
		ID     string `xml:"CreateAccessKeyResult>AccessKey>AccessKeyId"`
		Secret string `xml:"CreateAccessKeyResult>AccessKey>SecretAccessKey"`
	}
	if err := s.iamAs(ctx, as, url.Values{"Action": {"CreateAccessKey"}, "UserName": {userName}}, &key); err != nil {
		return User{}, err
	}
	return User{Name: userName, AccessKeyID: key.ID, SecretAccessKey: key.Secret}, nil
}

// SetAccessKeyStatus sets one of userName's keys Active or Inactive, signed with as's key
// (the bootstrap key while authentication is off, when as is the zero User).
func (s *Server) SetAccessKeyStatus(ctx context.Context, as User, userName, keyID, status string) error {
	return s.iamAs(ctx, as, url.Values{"Action": {"UpdateAccessKey"}, "UserName": {userName},
		"AccessKeyId": {keyID}, "Status": {status}}, nil)
}

// DeleteAccessKey deletes one of userName's keys, signed with as's key.
func (s *Server) DeleteAccessKey(ctx context.Context, as User, userName, keyID string) error {
	return s.iamAs(ctx, as, url.Values{"Action": {"DeleteAccessKey"}, "UserName": {userName}, "AccessKeyId": {keyID}}, nil)
}

// PutUserPolicy gives userName the inline policy document under policyName (before
// EnableAuth, with the bootstrap key).
func (s *Server) PutUserPolicy(ctx context.Context, userName, policyName, document string) error {
	return s.iam(ctx, url.Values{"Action": {"PutUserPolicy"}, "UserName": {userName},
		"PolicyName": {policyName}, "PolicyDocument": {document}}, nil)
}

// SelfKeyPolicy is a policy that lets a user manage access keys (ListAccessKeys,
// CreateAccessKey, UpdateAccessKey, DeleteAccessKey) and call STS: what `awskeep rotate`
// needs, and nothing else of IAM. In AWS its Resource would be the user's own ARN
// (arn:aws:iam::ACCOUNT:user/${aws:username}, as docs/rotate.md shows); moto 5.2.1 checks
// every IAM action against the resource "*" (moto/core/authorization.py), so a policy
// naming the user's ARN would allow nothing there.
func SelfKeyPolicy() string {
	return `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Action":["iam:ListAccessKeys","iam:CreateAccessKey","iam:UpdateAccessKey","iam:DeleteAccessKey"],"Resource":"*"},` +
		`{"Effect":"Allow","Action":"sts:*","Resource":"*"}]}`
}

// Rotation is what a rotation test needs in moto: an admin that may do anything (to list
// and check keys), a user that may rotate its own keys (SelfKeyPolicy), and a role it may
// assume.
type Rotation struct {
	Admin, User User
	RoleARN     string
}

// NewRotation creates a Rotation for user name and role roleName, before EnableAuth.
func (s *Server) NewRotation(ctx context.Context, name, roleName string) (Rotation, error) {
	var r Rotation
	var err error
	if r.Admin, err = s.CreateUser(ctx, "admin", true); err != nil {
		return r, err
	}
	if r.User, err = s.CreateUser(ctx, name, false); err != nil {
		return r, err
	}
	if err = s.PutUserPolicy(ctx, name, "rotation", SelfKeyPolicy()); err != nil {
		return r, err
	}
	r.RoleARN, err = s.CreateRole(ctx, roleName, r.User.ARN)
	return r, err
}

// iamAs is iam signed with as's key; the zero User signs with the bootstrap key.
func (s *Server) iamAs(ctx context.Context, as User, form url.Values, out any) error {
	if as.AccessKeyID == "" {
		return s.iam(ctx, form, out)
	}
	form.Set("Version", "2010-05-08")
	body := form.Encode()
	req, err := newFormRequest(ctx, s.URL, body)
	if err != nil {
		return err
	}
	signer := sigv4.New(sigv4.SoftwareDeriver(as.SecretAccessKey))
	if err := signer.SignHTTP(ctx, req, hash(body), sigv4.Credentials{AccessKeyID: as.AccessKeyID}, "iam", Region, time.Now()); err != nil {
		return err
	}
	return s.send(req, form.Get("Action"), out)
}
