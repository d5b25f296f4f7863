package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHostKeyCheck(t *testing.T) {
	good, other := newKey(t), newKey(t)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(good)))

	cb, algos, err := hostKeyCheck(nil)
	if err != nil || cb("h", nil, other) != nil || algos != nil {
		t.Fatal("no hostKey: any key is accepted")
	}
	for _, pin := range []string{line, line + " comment", "[127.0.0.1]:2222 " + line} {
		cb, _, err := hostKeyCheck(&pin)
		if err != nil {
			t.Fatalf("%q: %v", pin, err)
		}
		if err := cb("h", nil, good); err != nil {
			t.Errorf("%q: pinned key refused: %v", pin, err)
		}
		if err := cb("h", nil, other); err == nil || !strings.Contains(err.Error(), "mismatch") {
			t.Errorf("%q: other key accepted (%v)", pin, err)
		}
	}
	_, algos, _ = hostKeyCheck(&line)
	if len(algos) != 1 || algos[0] != ssh.KeyAlgoED25519 {
		t.Errorf("algorithms %v", algos)
	}
	for _, bad := range []string{"not a key", ssh.FingerprintSHA256(good)} {
		if _, _, err := hostKeyCheck(&bad); err == nil {
			t.Errorf("%q: must be refused (a full public key line is needed)", bad)
		}
	}
	if a := algorithmsFor(ssh.KeyAlgoRSA); len(a) != 3 {
		t.Errorf("rsa algorithms %v", a)
	}
}

func TestClientConfigAuth(t *testing.T) {
	host, pw := "h", "secret"
	e := Endpoint{Host: &host, Password: &pw}
	t.Setenv("SSH_AUTH_SOCK", "/nonexistent/agent.sock") // unreachable env agent is skipped
	cfg, cleanup, err := e.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	if cfg.User != "root" || len(cfg.Auth) != 2 || cfg.Timeout.Seconds() != 15 {
		t.Fatalf("user %q auth %d timeout %v", cfg.User, len(cfg.Auth), cfg.Timeout)
	}
	sock := "/nonexistent/agent.sock"
	e.AgentSocketPath = &sock
	if _, _, err := e.clientConfig(); err == nil {
		t.Fatal("an explicit unreachable agent socket must fail")
	}
	badKey := "-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n-----END OPENSSH PRIVATE KEY-----\n"
	e = Endpoint{Host: &host, PrivateKey: &badKey}
	if _, _, err := e.clientConfig(); err == nil {
		t.Fatal("a bad private key must fail")
	}
	port := 2200.0
	e = Endpoint{Host: &host, Port: &port}
	if e.address() != "h:2200" {
		t.Fatal(e.address())
	}
}
