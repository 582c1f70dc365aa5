package faultmodule

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/awskeep/awskeep/plugin-softhsm/softhsmtest"
	"github.com/awskeep/awskeep/plugins"
	"github.com/awskeep/awskeep/plugins/conformance"
	"github.com/awskeep/awskeep/plugins/keyuri"
)

const (
	pluginPkg = "github.com/awskeep/awskeep/plugin-softhsm/cmd/awskeep-plugin-pkcs11"
	testPIN   = "fault-pin-4711"
	// exampleSecret is the example secret access key of the AWS documentation.
	exampleSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

var (
	material = []byte("AWS4" + exampleSecret)
	date     = []byte("20150830")
)

func wantHMAC(msg []byte) []byte {
	m := hmac.New(sha256.New, material)
	m.Write(msg)
	return m.Sum(nil)
}

// rig is one plugin binary, one shim and one SoftHSM token, shared by the subtests of a
// test; each subtest launches its own plugin processes.
type rig struct {
	bin, so string
	hsm     *softhsmtest.Env
	tok     *softhsmtest.Token
}

func newRig(t *testing.T) *rig {
	t.Helper()
	hsm := softhsmtest.TempEnv(t)
	return &rig{
		bin: conformance.BuildPlugin(t, pluginPkg),
		so:  Build(t),
		hsm: hsm,
		tok: hsm.NewToken(t, "fault", testPIN),
	}
}

// key names object on the rig's token through the shim.
func (r *rig) key(object string) plugins.Key {
	u := keyuri.URI{
		Scheme: "pkcs11",
		Path:   []keyuri.Attr{{Name: "token", Value: r.tok.Label}, {Name: "object", Value: object}},
		Query:  []keyuri.Attr{{Name: "module-path", Value: r.so}},
	}
	return plugins.Key{URI: u.String(), PIN: r.tok.PIN}
}

// launch starts the plugin with the shim under ctl and returns it with its pid, found as
// the one new child of this process running the plugin binary (plugins.Plugin does not
// expose the pid).
func (r *rig) launch(t *testing.T, ctl *Control) (*plugins.Plugin, int) {
	t.Helper()
	before := children(t, r.bin)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugins.Launch(ctx, r.bin, func(o *plugins.LaunchOptions) {
		o.Env = append(r.hsm.Environ(), ctl.Environ()...)
	})
	if err != nil {
		t.Fatalf("launch plugin: %v", err)
	}
	t.Cleanup(p.Close)
	var pids []int
	for pid := range children(t, r.bin) {
		if !before[pid] {
			pids = append(pids, pid)
		}
	}
	if len(pids) != 1 {
		t.Fatalf("new plugin processes: %v, want exactly one", pids)
	}
	return p, pids[0]
}

// children returns the pids of this process's children that run exe.
func children(t *testing.T, exe string) map[int]bool {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	pids := make(map[int]bool)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// proc(5): "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(self) {
			continue
		}
		if link, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && link == exe {
			pids[pid] = true
		}
	}
	return pids
}

// gone reports whether process pid no longer exists (not even as a zombie).
func gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// waitExited waits until the plugin process has ended; the bound only keeps a broken
// plugin from stalling the test.
func waitExited(p *plugins.Plugin) bool {
	for end := time.Now().Add(10 * time.Second); !p.Exited() && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	return p.Exited()
}

// importAndCheck imports the example key and checks one HMAC, with the fault off.
func importAndCheck(t *testing.T, p *plugins.Plugin, k plugins.Key) {
	t.Helper()
	ctx := context.Background()
	if err := p.ImportKey(ctx, k, material, plugins.ImportOptions{Overwrite: true}); err != nil {
		t.Fatalf("import: %v", err)
	}
	mac, err := p.HMAC(ctx, k, date)
	if err != nil {
		t.Fatalf("HMAC: %v", err)
	}
	if !bytes.Equal(mac, wantHMAC(date)) {
		t.Fatal("HMAC through the shim does not match crypto/hmac")
	}
}

func TestBuildExportsOnlyGetFunctionList(t *testing.T) {
	f, err := elf.Open(Build(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var exported []string
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF && elf.ST_TYPE(s.Info) == elf.STT_FUNC && strings.HasPrefix(s.Name, "C_") {
			exported = append(exported, s.Name)
		}
	}
	if len(exported) != 1 || exported[0] != "C_GetFunctionList" {
		t.Errorf("exported PKCS#11 functions %v, want only C_GetFunctionList", exported)
	}
}

func TestControl(t *testing.T) {
	c := NewControl(t)
	if got := c.Calls(); got != nil {
		t.Errorf("Calls before any call = %q, want none", got)
	}
	c.Set(Hang)
	if b, err := os.ReadFile(c.ControlFile); err != nil || string(b) != "hang\n" {
		t.Errorf("control file = %q, %v", b, err)
	}
	log := "C_Initialize\nC_Login user=1\nC_SignInit\nC_Sign\nstdout C_Sign 25\nC_Sign\nC_Login user=1\n"
	if err := os.WriteFile(c.LogFile, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		fn   string
		want int
	}{{"C_Login", 2}, {"C_Sign", 2}, {"C_SignInit", 1}, {"stdout", 1}, {"C_Logout", 0}}
	for _, tt := range tests {
		if got := c.Count(tt.fn); got != tt.want {
			t.Errorf("Count(%q) = %d, want %d", tt.fn, got, tt.want)
		}
	}
	if c.LoginCount() != 2 {
		t.Errorf("LoginCount = %d, want 2", c.LoginCount())
	}
	env := strings.Join(c.Environ(), " ")
	if !strings.Contains(env, ControlEnv+"="+c.ControlFile) || !strings.Contains(env, LogEnv+"="+c.LogFile) || strings.Contains(env, TargetEnv) {
		t.Errorf("Environ = %q", env)
	}
}

func TestFaults(t *testing.T) {
	r := newRig(t)

	t.Run("none forwards everything", func(t *testing.T) {
		ctl := NewControl(t)
		p, _ := r.launch(t, ctl)
		ctx := context.Background()
		k := r.key("none")
		importAndCheck(t, p, k)
		d, err := p.DescribeKey(ctx, k)
		if err != nil || !d.Exists || d.Extractable || !d.Sensitive {
			t.Errorf("DescribeKey = %+v, %v", d, err)
		}
		if err := p.DeleteKey(ctx, k); err != nil {
			t.Errorf("DeleteKey: %v", err)
		}
		// One process: one C_Initialize and one login, however many requests.
		if n, l := ctl.Count("C_Initialize"), ctl.LoginCount(); n != 1 || l != 1 {
			t.Errorf("C_Initialize %d times, C_Login %d times; want 1 and 1; calls %q", n, l, ctl.Calls())
		}
		if ctl.Count("C_Sign") == 0 || ctl.Count("C_SignInit") == 0 {
			t.Errorf("C_SignInit/C_Sign never reached the shim: calls %q", ctl.Calls())
		}
	})

	crashes := []struct {
		fault  Fault
		reason string
	}{
		{SegV, "SIGSEGV"},
		{Abort, "SIGABRT"},
	}
	for _, tt := range crashes {
		t.Run(string(tt.fault), func(t *testing.T) {
			ctl := NewControl(t)
			p, pid := r.launch(t, ctl)
			k := r.key("crash-" + string(tt.fault))
			importAndCheck(t, p, k)

			ctl.Set(tt.fault)
			signs := ctl.Count("C_Sign")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := p.HMAC(ctx, k, date)
			t.Logf("HMAC error: %v; calls %q", err, ctl.Calls())
			if !errors.Is(err, plugins.ErrPluginUnavailable) {
				t.Fatalf("HMAC: %v, want ErrPluginUnavailable", err)
			}
			if !waitExited(p) {
				t.Fatal("the plugin did not exit")
			}
			if got := p.ExitReason(); got != tt.reason {
				t.Errorf("ExitReason = %q, want %q", got, tt.reason)
			}
			if got := ctl.Count("C_Sign") - signs; got != 1 {
				t.Errorf("%d C_Sign calls after the fault was set, want 1 (the crash)", got)
			}
			p.Close()
			if !gone(pid) {
				t.Errorf("plugin process %d still exists after Close", pid)
			}

			// A crash costs one request: a new process on the same token works.
			ctl.Set(None)
			p2, _ := r.launch(t, ctl)
			mac, err := p2.HMAC(ctx, k, date)
			if err != nil || !bytes.Equal(mac, wantHMAC(date)) {
				t.Errorf("HMAC in a new plugin after the crash: %x, %v", mac, err)
			}
			if err := p2.DeleteKey(ctx, k); err != nil {
				t.Error(err)
			}
		})
	}

	t.Run("hang", func(t *testing.T) {
		ctl := NewControl(t)
		p, pid := r.launch(t, ctl)
		k := r.key("hang")
		importAndCheck(t, p, k)

		ctl.Set(Hang)
		signs := ctl.Count("C_Sign")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := p.HMAC(ctx, k, date)
		t.Logf("HMAC error: %v", err)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("HMAC: %v, want context.DeadlineExceeded", err)
		}
		if got := ctl.Count("C_Sign") - signs; got != 1 {
			t.Errorf("%d C_Sign calls after the fault was set, want 1 (the hang)", got)
		}
		// Not asserted: whether a token call stuck in one session blocks the others is the
		// token's business. SoftHSM's does not.
		ctl.Set(None)
		ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel2()
		_, err = p.HMAC(ctx2, k, date)
		t.Logf("after the deadline: plugin exited=%v; next HMAC with the fault off: %v", p.Exited(), err)
		start := time.Now()
		p.Close()
		t.Logf("Close took %v, exit reason %q", time.Since(start).Round(time.Millisecond), p.ExitReason())
		if !gone(pid) {
			t.Errorf("plugin process %d still exists after Close", pid)
		}

		p2, _ := r.launch(t, ctl)
		if err := p2.DeleteKey(context.Background(), k); err != nil {
			t.Errorf("DeleteKey in a new plugin after the hang: %v", err)
		}
	})

	// The hold faults stop one call before it reaches the token and let it go on when the
	// fault changes; meanwhile the rest of the plugin keeps working.
	holds := []struct {
		fault Fault
		fn    string
		do    func(p *plugins.Plugin, k plugins.Key) error
	}{
		{HoldCreate, "C_CreateObject", func(p *plugins.Plugin, k plugins.Key) error {
			return p.ImportKey(context.Background(), k, material, plugins.ImportOptions{Overwrite: true})
		}},
		{HoldSetAttribute, "C_SetAttributeValue", func(p *plugins.Plugin, k plugins.Key) error {
			return p.ImportKey(context.Background(), k, material, plugins.ImportOptions{Overwrite: true})
		}},
		{HoldDestroy, "C_DestroyObject", func(p *plugins.Plugin, k plugins.Key) error {
			return p.DeleteKey(context.Background(), k)
		}},
	}
	for _, tt := range holds {
		t.Run(string(tt.fault), func(t *testing.T) {
			ctl := NewControl(t)
			p, _ := r.launch(t, ctl)
			k := r.key("hold-" + string(tt.fault))
			importAndCheck(t, p, k)

			ctl.Set(tt.fault)
			n := ctl.Count(tt.fn)
			done := make(chan error, 1)
			go func() { done <- tt.do(p, k) }()
			if !ctl.WaitCalls(tt.fn, n, 10*time.Second) {
				t.Fatalf("%s never reached the shim; calls %q", tt.fn, ctl.Calls())
			}
			select {
			case err := <-done:
				t.Fatalf("the request returned (%v) while %s was held", err, tt.fn)
			case <-time.After(300 * time.Millisecond):
			}
			if mac, err := p.HMAC(context.Background(), r.key("hold-"+string(tt.fault)), date); tt.fault != HoldDestroy &&
				(err != nil || !bytes.Equal(mac, wantHMAC(date))) {
				t.Errorf("HMAC while %s is held: %x, %v", tt.fn, mac, err)
			}
			ctl.Set(None)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("the request after %s was let go: %v", tt.fn, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s was not let go", tt.fn)
			}
			_ = p.DeleteKey(context.Background(), k)
		})
	}

	t.Run("stdout", func(t *testing.T) {
		ctl := NewControl(t)
		ctl.Set(Stdout) // from the start: C_Initialize, in the first request, writes too
		p, _ := r.launch(t, ctl)
		ctx := context.Background()
		k := r.key("stdout")
		importAndCheck(t, p, k)
		for range 3 {
			mac, err := p.HMAC(ctx, k, date)
			if err != nil || !bytes.Equal(mac, wantHMAC(date)) {
				t.Fatalf("HMAC: %x, %v", mac, err)
			}
		}
		if _, err := p.Info(ctx); err != nil {
			t.Errorf("Info: %v", err)
		}
		if err := p.DeleteKey(ctx, k); err != nil {
			t.Error(err)
		}
		if p.Exited() {
			t.Errorf("the plugin exited: %s", p.ExitReason())
		}
		// Prove the garbage really went to file descriptor 1: write(2) returned its length.
		n := len("FAULTY MODULE SAYS HELLO\n")
		var init, sign int
		for _, line := range ctl.Calls() {
			switch line {
			case "stdout C_Initialize " + strconv.Itoa(n):
				init++
			case "stdout C_Sign " + strconv.Itoa(n):
				sign++
			}
		}
		if init != 1 || sign < 4 {
			t.Errorf("stdout writes: %d in C_Initialize, %d in C_Sign, want 1 and >= 4; calls %q", init, sign, ctl.Calls())
		}
	})

	// Flood: the go-plugin host (v1.8.0 client.go) scans the plugin's stdout with a
	// bufio.Scanner and stops reading at a line over 64 KiB; the pipe then fills and the
	// plugin's write(2) blocks. Whether the request works or runs into its deadline is the
	// plugins package's business (logged here); what must hold either way: the call
	// returns by its deadline, and Close leaves no process behind.
	t.Run("flood", func(t *testing.T) {
		ctl := NewControl(t)
		p, pid := r.launch(t, ctl)
		k := r.key("flood")
		importAndCheck(t, p, k)

		ctl.Set(Flood)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := p.HMAC(ctx, k, date)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("HMAC: %v, want success or context.DeadlineExceeded", err)
		}
		t.Logf("HMAC writing 1 MiB to stdout: %v; stdout writes that returned: %d", err, ctl.Count("stdout"))
		p.Close()
		if !gone(pid) {
			t.Errorf("plugin process %d still exists after Close", pid)
		}
		ctl.Set(None)
		p2, _ := r.launch(t, ctl)
		if err := p2.DeleteKey(context.Background(), k); err != nil {
			t.Errorf("DeleteKey in a new plugin: %v", err)
		}
	})

	t.Run("unknown fault word fails the call", func(t *testing.T) {
		ctl := NewControl(t)
		p, _ := r.launch(t, ctl)
		k := r.key("unknown")
		importAndCheck(t, p, k)
		if err := os.WriteFile(ctl.ControlFile, []byte("segfault\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := p.HMAC(context.Background(), k, date)
		t.Logf("HMAC error: %v", err)
		if !errors.Is(err, plugins.ErrDevice) || !strings.Contains(err.Error(), "CKR_GENERAL_ERROR") {
			t.Errorf("HMAC: %v, want ErrDevice with CKR_GENERAL_ERROR", err)
		}
		ctl.Set(None)
		if err := p.DeleteKey(context.Background(), k); err != nil {
			t.Error(err)
		}
	})

	t.Run("wrong PIN reaches the token once", func(t *testing.T) {
		ctx := context.Background()
		k := r.key("wrong-pin")
		first := NewControl(t)
		p, _ := r.launch(t, first)
		importAndCheck(t, p, k)
		p.Close()

		// A fresh process: the login state is per process.
		ctl := NewControl(t)
		p2, _ := r.launch(t, ctl)
		_, err := p2.HMAC(ctx, plugins.Key{URI: k.URI, PIN: "wrong-" + testPIN}, date)
		t.Logf("HMAC error: %v", err)
		if !errors.Is(err, plugins.ErrPINIncorrect) {
			t.Fatalf("HMAC with a wrong PIN: %v, want ErrPINIncorrect", err)
		}
		if got := ctl.Calls(); ctl.LoginCount() != 1 || !strings.Contains(strings.Join(got, "\n"), "C_Login user=1") {
			t.Fatalf("calls after one wrong PIN: %q, want exactly one C_Login user=1 (CKU_USER)", got)
		}
		mac, err := p2.HMAC(ctx, k, date)
		if err != nil || !bytes.Equal(mac, wantHMAC(date)) {
			t.Fatalf("HMAC with the right PIN after a wrong one: %x, %v", mac, err)
		}
		if got := ctl.LoginCount(); got != 2 {
			t.Errorf("C_Login %d times after a wrong and a right PIN, want 2", got)
		}
		if err := p2.DeleteKey(ctx, k); err != nil {
			t.Error(err)
		}
	})
}
