package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dpf-dev/docker-proxy-filter/internal/enginetest"
)

// TestBinaryOverTLSUpstream runs the shipped binary against a real dockerd
// --tlsverify, configured as the docker CLI is (tcp://, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH): the docker CLI through the proxy lists, inspects,
// follows events and execs (a hijacked stream over the TLS upstream) on the
// visible container only, and the hidden one answers like a nonexistent one.
func TestBinaryOverTLSUpstream(t *testing.T) {
	e := enginetest.StartPrivateTLS(t)
	label := enginetest.UniqueName(t, "tls-visible")
	visible := e.Run(t, enginetest.RunSpec{Labels: map[string]string{label: "1"}})
	hidden := e.Run(t, enginetest.RunSpec{})

	addr, logs := startBinary(t,
		"PROXY_URL=tcp://"+e.Addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH="+e.CertDir,
		"CONTAINER_LABELS="+label, "READ_ONLY=false")
	host := "tcp://" + addr
	enginetest.Eventually(t, 10*time.Second, "index live over TLS", func() bool {
		return strings.Contains(logs.String(), "container index is live")
	})
	if want := "tls (verify, ca " + filepath.Join(e.CertDir, "ca.pem") + ", client cert " + filepath.Join(e.CertDir, "cert.pem") + ")"; !strings.Contains(logs.String(), want) {
		t.Errorf("the start-up line does not say %q:\n%s", want, logs)
	}

	out, stderr, err := e.Docker(t, host, "ps", "--format", "{{.Names}}")
	if err != nil || strings.TrimSpace(out) != visible.Name {
		t.Errorf("docker ps through the proxy = %q, %v (%s); want only %s", out, err, stderr, visible.Name)
	}
	out, stderr, err = e.Docker(t, host, "inspect", "--format", "{{.Id}}", visible.Name)
	if err != nil || strings.TrimSpace(out) != visible.ID {
		t.Errorf("docker inspect %s = %q, %v (%s)", visible.Name, out, err, stderr)
	}

	// The hidden container answers exactly as one that does not exist.
	missing := enginetest.UniqueName(t, "nonexistent")
	hs, hb := get(t, addr, "/containers/"+hidden.Name+"/json")
	ms, mb := get(t, addr, "/containers/"+missing+"/json")
	if hs != http.StatusNotFound || strings.ReplaceAll(hb, hidden.Name, missing) != mb || ms != hs {
		t.Errorf("hidden container = %d %q, nonexistent = %d %q; want the same 404", hs, hb, ms, mb)
	}

	// Events reach the client through the TLS upstream, and the index
	// follows them: a container created now is visible at once.
	// --since replays what happened before the CLI subscribed.
	since := strconv.FormatInt(time.Now().Unix()-1, 10)
	events := e.DockerCmd(t, host, "events", "--since", since, "--filter", "type=container", "--filter", "event=create", "--format", "{{.Actor.Attributes.name}}")
	stdout, err := events.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = events.Process.Kill(); _ = events.Wait() }()
	names := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			names <- sc.Text()
		}
		close(names)
	}()
	hidden2 := e.Run(t, enginetest.RunSpec{NoStart: true})
	visible2 := e.Run(t, enginetest.RunSpec{Labels: map[string]string{label: "2"}, NoStart: true})
	deadline := time.After(15 * time.Second)
	for seen := false; !seen; {
		select {
		case n, ok := <-names:
			if !ok {
				t.Fatal("docker events through the proxy ended")
			}
			if n == hidden2.Name || n == hidden.Name {
				t.Errorf("docker events through the proxy showed the hidden %s", n)
			}
			seen = n == visible2.Name
		case <-deadline:
			t.Fatalf("no create event for %s through the proxy", visible2.Name)
		}
	}
	out, stderr, err = e.Docker(t, host, "inspect", "--format", "{{.Id}}", visible2.Name)
	if err != nil || strings.TrimSpace(out) != visible2.ID {
		t.Errorf("docker inspect of a container created after start = %q, %v (%s)", out, err, stderr)
	}

	// exec is a hijacked (101) stream: stdin and stdout cross the TLS
	// upstream connection the transport handed over.
	out, stderr, err = e.Docker(t, host, "exec", visible.Name, "/app", "echo", "hello", "over", "tls")
	if err != nil || strings.TrimSpace(out) != "hello over tls" {
		t.Errorf("docker exec = %q, %v (%s)", out, err, stderr)
	}
	cmd := e.DockerCmd(t, host, "exec", "-i", visible.Name, "/app", "cat")
	cmd.Stdin = strings.NewReader("round trip over tls\n")
	if b, err := cmd.Output(); err != nil || strings.TrimSpace(string(b)) != "round trip over tls" {
		t.Errorf("docker exec -i cat = %q, %v; want the input echoed", b, err)
	}
	if _, stderr, err = e.Docker(t, host, "exec", hidden.Name, "/app", "echo", "no"); err == nil || !strings.Contains(stderr, "No such container") {
		t.Errorf("docker exec into the hidden container: %v, %q; want No such container", err, stderr)
	}

	// The healthcheck pings the proxy, not the upstream, with the same
	// environment.
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	hc := exec.Command(bin, "healthcheck")
	hc.Env = append(os.Environ(), "PROXY_URL=tcp://"+e.Addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH="+e.CertDir, "LISTEN="+addr)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Errorf("healthcheck with a TLS upstream: %v\n%s", err, out)
	}

	// https:// reaches the same engine: TLS always, the server verified
	// against ca.pem of DOCKER_CERT_PATH, the client certificate sent.
	httpsAddr, httpsLogs := startBinary(t,
		"PROXY_URL=https://"+e.Addr, "DOCKER_CERT_PATH="+e.CertDir, "CONTAINER_LABELS="+label)
	enginetest.Eventually(t, 10*time.Second, "index live over https://", func() bool {
		return strings.Contains(httpsLogs.String(), "container index is live")
	})
	if !strings.Contains(httpsLogs.String(), "tls (verify, ca "+filepath.Join(e.CertDir, "ca.pem")) {
		t.Errorf("the https:// start-up line does not say it verifies against ca.pem:\n%s", httpsLogs)
	}
	out, stderr, err = e.Docker(t, "tcp://"+httpsAddr, "ps", "-a", "--format", "{{.Names}}")
	if got := strings.Fields(out); err != nil || len(got) != 2 || !slices.Contains(got, visible.Name) || !slices.Contains(got, visible2.Name) {
		t.Errorf("docker ps -a through the https:// proxy = %q, %v (%s); want only %s and %s", out, err, stderr, visible.Name, visible2.Name)
	}
	hs, hb = get(t, httpsAddr, "/containers/"+hidden.Name+"/json")
	ms, mb = get(t, httpsAddr, "/containers/"+missing+"/json")
	if hs != http.StatusNotFound || strings.ReplaceAll(hb, hidden.Name, missing) != mb || ms != hs {
		t.Errorf("over https://: hidden container = %d %q, nonexistent = %d %q; want the same 404", hs, hb, ms, mb)
	}
}

// TestBinaryRefusesToStartWithBadTLS: certificate mistakes stop the start
// with exit status 2 and a message naming the file or the verification
// problem, before anything listens.
func TestBinaryRefusesToStartWithBadTLS(t *testing.T) {
	e := enginetest.StartPrivateTLS(t)
	rogue := enginetest.NewCA(t, "rogue CA")
	wrongCA := enginetest.CertDir(t, rogue.PEM, e.Client.Cert, e.Client.Key)
	noKey := enginetest.CertDir(t, e.CA.PEM, e.Client.Cert, nil)
	noClient := enginetest.CertDir(t, e.CA.PEM, nil, nil)
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"wrong CA", []string{"PROXY_URL=tcp://" + e.Addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + wrongCA},
			[]string{"TLS handshake failed", "not signed by the CA in " + filepath.Join(wrongCA, "ca.pem"), "certificate signed by unknown authority"}},
		{"missing key.pem", []string{"PROXY_URL=tcp://" + e.Addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + noKey},
			[]string{"invalid configuration", "DOCKER_CERT_PATH=" + noKey, "cert.pem exists but key.pem does not"}},
		{"no client certificate", []string{"PROXY_URL=tcp://" + e.Addr, "DOCKER_TLS_VERIFY=1", "DOCKER_CERT_PATH=" + noClient},
			[]string{"no client certificate was sent", "put cert.pem and key.pem in DOCKER_CERT_PATH"}},
		{"https with the engine's CA unknown to the system", []string{"PROXY_URL=https://" + e.Addr, "DOCKER_CERT_PATH=" + t.TempDir()},
			[]string{"not signed by a CA this system trusts"}},
	}
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin)
			cmd.Env = append(os.Environ(), append(tt.env, "LISTEN="+freePort(t))...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 2 {
				t.Fatalf("binary = %v, want exit status 2\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if strings.Contains(string(out), `"listening"`) || strings.Contains(string(out), "msg=listening") {
				t.Errorf("the binary listened before refusing:\n%s", out)
			}
			t.Logf("%s", out)
		})
	}
}

// get returns the status and body of a GET to the proxy.
func get(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
