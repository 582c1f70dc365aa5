package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awskeep/awskeep/core/mototest"
	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugin-tpm/swtpmtest"
	"github.com/creack/pty"
)

// The getting-started and migration guides in docs/ are executed here, so that they cannot
// rot. A guide marks what runs and what is only read by the fence's info string:
//
//	```sh                 run, in order, in one bash (variables carry over)
//	```sh your-values     run, then the test sets the variables the block assigns to its
//	                      stand-ins (a swtpm's address instead of /dev/tpmrm0)
//	```text, ```ini ...   only read
//
// Other shell info strings (bash, shell, console) are refused, so that no block is left
// out by accident. The guide runs in bash on a terminal of its own (a pty), as a reader
// would run it: prompts (PINs, passwords) are answered by the test when they show, so
// secrets come from prompts or files and never from argv. HOME, the XDG directories and the
// AWS files are in a temp dir; PATH holds the built binaries and AWS CLI v1; moto stands in
// for AWS through $AWS_ENDPOINT_URL, which the guides tell readers to leave unset.
//
// Each guide starts from an IAM user's access key in ~/.aws/credentials ([legacy], as
// `aws configure` writes it) and must end with `aws sts get-caller-identity` as the role
// assumed with the device key; afterwards the secret is in no file of the home directory
// and never in what the terminal showed.

// guide says how to run one guide.
type guide struct {
	file string
	// values are the stand-ins for the variables of `sh your-values` blocks.
	values map[string]string
	// answers answer prompts: a prompt matching the expression gets the answer typed.
	answers []answer
	// env is added to the guide's environment (a stand-in device's configuration).
	env []string
	// secrets must never show on the terminal.
	secrets []string
	// want must show on the terminal (the caller's identity).
	want []string
}

type answer struct {
	prompt *regexp.Regexp
	text   string
}

// block is one fenced block of a guide.
type block struct {
	line  int // of the opening fence, 1-based
	lang  string
	attrs []string
	body  string
}

var fence = regexp.MustCompile("^```\\s*([A-Za-z0-9_-]*)(.*)$")

// parseBlocks returns the fenced blocks of a Markdown file.
func parseBlocks(t *testing.T, path string) []block {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []block
	var cur *block
	var body strings.Builder
	for i, line := range strings.Split(string(data), "\n") {
		if cur == nil {
			if m := fence.FindStringSubmatch(line); m != nil {
				cur = &block{line: i + 1, lang: m[1], attrs: strings.Fields(m[2])}
				body.Reset()
			}
			continue
		}
		if strings.TrimSpace(line) == "```" {
			cur.body = body.String()
			blocks = append(blocks, *cur)
			cur = nil
			continue
		}
		body.WriteString(line + "\n")
	}
	if cur != nil {
		t.Fatalf("%s:%d: fence never closed", path, cur.line)
	}
	return blocks
}

// script turns a guide's runnable blocks into one bash script; every variable of values
// must be assigned in a `sh your-values` block.
func (g guide) script(t *testing.T, blocks []block) string {
	t.Helper()
	var b strings.Builder
	// The trace of every command, with its arguments expanded, goes to descriptor 3 (a
	// pipe the test reads, never the terminal or a file): runGuide checks that no secret
	// is in the arguments of a program.
	b.WriteString("set -euo pipefail\nBASH_XTRACEFD=3\nset -x\ncd\n")
	assigned := map[string]bool{}
	runnable := 0
	for _, bl := range blocks {
		switch bl.lang {
		case "bash", "shell", "console", "zsh":
			t.Fatalf("%s:%d: a ```%s block: mark it ```sh to run it or ```text to only show it", g.file, bl.line, bl.lang)
		case "sh":
		default:
			continue
		}
		runnable++
		yours := false
		for _, a := range bl.attrs {
			if a != "your-values" {
				t.Fatalf("%s:%d: unknown block attribute %q (want your-values)", g.file, bl.line, a)
			}
			yours = true
		}
		fmt.Fprintf(&b, "printf '\\n### %s:%d\\n'\n%s", filepath.Base(g.file), bl.line, bl.body)
		if yours {
			for name, v := range g.values {
				if regexp.MustCompile(`(?m)^\s*(export\s+)?` + name + `=`).MatchString(bl.body) {
					assigned[name] = true
					fmt.Fprintf(&b, "%s=%s\n", name, shellQuote(v))
				}
			}
		}
	}
	for name := range g.values {
		if !assigned[name] {
			t.Fatalf("%s: no ```sh your-values block assigns %s", g.file, name)
		}
	}
	if runnable == 0 {
		t.Fatalf("%s has no ```sh block", g.file)
	}
	return b.String()
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// guideHome is a reader's machine: a home with the IAM user's key in ~/.aws/credentials.
func guideHome(t *testing.T) string {
	t.Helper()
	return homeWithCredentials(t, fmt.Sprintf("[legacy]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
		world.alice.AccessKeyID, world.alice.SecretAccessKey))
}

// homeWithCredentials is a home whose ~/.aws/credentials holds credentials.
func homeWithCredentials(t *testing.T, credentials string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(credentials), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// runGuide runs g's blocks on a pty in home and checks what the brief of every guide
// promises.
func runGuide(t *testing.T, home string, g guide) string {
	t.Helper()
	path := filepath.Join("..", "..", "docs", g.file)
	script := g.script(t, parseBlocks(t, path))
	scriptFile := filepath.Join(t.TempDir(), "guide.sh")
	if err := os.WriteFile(scriptFile, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	aws := awsCLIs(t)["v1"]
	env := []string{
		"PATH=" + strings.Join([]string{binDir, filepath.Dir(aws), "/usr/local/bin", "/usr/bin", "/bin"}, ":"),
		"HOME=" + home,
		"USER=guide", "LOGNAME=guide", "LANG=C.UTF-8", "TERM=dumb",
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"AWSKEEP_PLUGIN_DIR=" + pluginDir,
		"AWS_ENDPOINT_URL=" + world.server.URL,
	}
	env = append(env, g.env...)
	cmd := exec.Command("bash", "--noprofile", "--norc", scriptFile)
	cmd.Dir = home
	cmd.Env = env
	traceR, traceW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer traceR.Close()
	cmd.ExtraFiles = []*os.File{traceW} // descriptor 3
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	traceW.Close()
	if err != nil {
		t.Fatalf("start bash on a pty: %v", err)
	}
	defer ptmx.Close()
	var trace bytes.Buffer
	traceDone := make(chan struct{})
	go func() {
		defer close(traceDone)
		_, _ = trace.ReadFrom(traceR)
	}()
	var mu sync.Mutex
	var out bytes.Buffer
	pendingFrom := 0 // output after the last answer
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		r := bufio.NewReader(ptmx)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			pending := out.String()[pendingFrom:]
			for _, a := range g.answers {
				if a.prompt.MatchString(pending) {
					pendingFrom = out.Len()
					// Let the program turn echo off before typing, as a person would.
					time.Sleep(100 * time.Millisecond)
					ptmx.Write([]byte(a.text + "\n"))
					break
				}
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		err = errors.New("did not end within 5 minutes")
	}
	select {
	case <-readDone:
	case <-time.After(5 * time.Second):
	}
	mu.Lock()
	shown := out.String()
	mu.Unlock()
	select {
	case <-traceDone:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the command trace did not end", g.file)
	}
	if err := argvError(trace.String(), append(g.secrets, world.alice.SecretAccessKey)); err != nil {
		t.Fatalf("%s: %v", g.file, err)
	}
	for _, s := range append(g.secrets, world.alice.SecretAccessKey) {
		if s != "" && strings.Contains(shown, s) {
			t.Fatalf("%s: the terminal showed a secret", g.file)
		}
	}
	if err != nil {
		t.Fatalf("%s failed: %v; the terminal shows:\n%s", g.file, err, shown)
	}
	for _, w := range g.want {
		if !strings.Contains(shown, w) {
			t.Fatalf("%s: the terminal does not show %q:\n%s", g.file, w, shown)
		}
	}
	// The secret left ~/.aws/credentials and is in no file of the home directory (SoftHSM's
	// token files there included: it encrypts private objects); PINs are only in the
	// pin-source files made for them.
	err = filepath.WalkDir(home, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range append(g.secrets, world.alice.SecretAccessKey) {
			if s != "" && bytes.Contains(data, []byte(s)) && !isPINFile(p, s) {
				t.Errorf("%s: %s holds a secret after the guide", g.file, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s ran; the terminal showed:\n%s", g.file, shown)
	return shown
}

// builtins are the bash builtins the guides use: their arguments are not a program's argv
// (printf writes a PIN to its file without it being visible in /proc).
var builtins = map[string]bool{"printf": true, "echo": true, "read": true, "cd": true, "umask": true,
	"export": true, "set": true, ":": true, "true": true, "test": true, "[": true, "eval": true}

// argvError says which program the guide ran with a secret in its arguments, as bash's
// trace shows them ("+ softhsm2-util --pin ..." would be one); assignments and builtins are
// not argv. It also fails when the trace shows too few programs to be the guide's.
func argvError(trace string, secrets []string) error {
	commands := 0
	assignment := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	for _, line := range strings.Split(trace, "\n") {
		line = strings.TrimPrefix(strings.TrimLeft(line, "+"), " ")
		word, _, _ := strings.Cut(line, " ")
		if word == "" || builtins[word] || assignment.MatchString(word) {
			continue
		}
		commands++
		for _, s := range secrets {
			if s != "" && strings.Contains(line, s) {
				return fmt.Errorf("a secret is on the command line of %s", word)
			}
		}
	}
	if commands < 5 {
		return fmt.Errorf("the trace shows only %d programs: the argv check does not see them", commands)
	}
	return nil
}

// TestArgvError checks the argv check on traces of bash's form.
func TestArgvError(t *testing.T) {
	const pin = "s3cret-pin"
	ok := "+ mkdir -p x\n+ umask 077\n+ read -rsp 'PIN: ' pin\n+ printf '%s\\n' s3cret-pin\n+ pin2=s3cret-pin\n" +
		"++ aws configure get aws_access_key_id\n+ AKID=AKIA\n+ awskeep import --key k\n+ aws sts get-caller-identity\n+ shred -u f\n"
	if err := argvError(ok, []string{pin}); err != nil {
		t.Fatalf("a trace with the PIN only in builtins and assignments: %v", err)
	}
	if err := argvError(ok+"+ softhsm2-util --init-token --pin s3cret-pin\n", []string{pin}); err == nil || !strings.Contains(err.Error(), "softhsm2-util") {
		t.Fatalf("a PIN on softhsm2-util's command line: %v", err)
	}
	if err := argvError("+ printf x\n", []string{pin}); err == nil {
		t.Fatal("an empty trace passed")
	}
}

// isPINFile reports whether p is a 0600 file that holds exactly a PIN or password of the
// guide: the pin-source files the guides create on purpose.
func isPINFile(p, secret string) bool {
	if secret == world.alice.SecretAccessKey {
		return false
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		return false
	}
	data, _ := os.ReadFile(p)
	return strings.TrimRight(string(data), "\n") == secret
}

// callerWant is what get-caller-identity shows for the role the guides assume.
func callerWant(session string) string {
	return "arn:aws:sts::" + mototest.AccountID + ":assumed-role/deployer/" + session
}

func prompt(expr, text string) answer { return answer{regexp.MustCompile(expr), text} }

func TestGuideSoftHSM(t *testing.T) {
	if err := softhsmtest.Check(); err != nil {
		t.Fatal(err)
	}
	home := guideHome(t)
	const soPIN, pin = "guide-so-pin-5521", "guide-user-pin-8830"
	runGuide(t, home, guide{
		file: "getting-started-softhsm.md",
		answers: []answer{
			prompt(`SO PIN: $`, soPIN),
			prompt(`user PIN: $`, pin),
			prompt(`Token PIN: $`, pin),
		},
		secrets: []string{soPIN, pin},
		want:    []string{callerWant("softhsm-guide")},
	})
}

func TestGuidePKCS11(t *testing.T) {
	home := guideHome(t)
	const pin = "guide-vendor-pin-1207"
	sh := softhsmtest.TempEnv(t)
	sh.NewToken(t, "aws", pin)
	runGuide(t, home, guide{
		file:    "getting-started-pkcs11.md",
		values:  map[string]string{"MODULE": softhsmtest.ModulePath, "TOKEN": "aws"},
		env:     sh.Environ(),
		answers: []answer{prompt(`PIN: $`, pin)},
		secrets: []string{pin},
		want:    []string{callerWant("hsm-guide")},
	})
}

func TestGuideTPM(t *testing.T) {
	home := guideHome(t)
	const password = "guide-tpm-password-3390"
	sw := swtpmtest.Start(t)
	runGuide(t, home, guide{
		file:    "getting-started-tpm.md",
		values:  map[string]string{"TPM": sw.Device},
		answers: []answer{prompt(`password: $`, password)},
		secrets: []string{password},
		want:    []string{callerWant("tpm-guide")},
	})
}

func TestGuideYubiHSM(t *testing.T) {
	home := guideHome(t)
	sim := buildYubiHSM(t)
	const password = "guide-yubihsm-password-6672"
	pwFile := filepath.Join(t.TempDir(), "sim-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startYubiSim(t, sim, pwFile)
	runGuide(t, home, guide{
		file:    "getting-started-yubihsm.md",
		values:  map[string]string{"CONNECTOR": "http://" + addr},
		answers: []answer{prompt(`password: $`, password)},
		secrets: []string{password},
		want:    []string{callerWant("yubihsm-guide")},
	})
}

// TestGuideMigratingBotoPatch runs the sh blocks of docs/migrating.md (the boto3 YubiHSM
// patch section; the other sections map settings in tables and need tools that are not
// here): the device already holds alice's key at 0x0010, as the patch's set-up left it,
// and ~/.aws/credentials holds the patch's hsm|... string with the password in it.
func TestGuideMigratingBotoPatch(t *testing.T) {
	sim := buildYubiHSM(t)
	const password = "guide-boto-password-2291"
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "sim-password")
	if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startYubiSim(t, sim, pwFile)
	// The patch's set-up: alice's secret in HMAC key 0x0010 (imported here by awskeep,
	// outside the reader's home).
	imp := exec.Command(awskeep, "import", "--key", "yubihsm:object-id=0x0010?connector=http://"+addr+"&auth-key-id=1&pin-source=file:"+pwFile)
	imp.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CACHE_HOME=" + dir, "AWSKEEP_PLUGIN_DIR=" + pluginDir}
	imp.Stdin = strings.NewReader(world.alice.SecretAccessKey + "\n")
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("import alice's key into the simulator: %v\n%s", err, out)
	}
	home := homeWithCredentials(t, fmt.Sprintf("[yubihsm]\naws_access_key_id = %s\naws_secret_access_key = hsm|%s|1|%s|16\n",
		world.alice.AccessKeyID, addr, password))
	runGuide(t, home, guide{
		file:    "migrating.md",
		secrets: []string{password},
		want:    []string{"yubihsm:object-id=0x0010?connector=http://" + addr + "&auth-key-id=1&pin-source=file:", callerWant("boto-patch-guide")},
	})
}
