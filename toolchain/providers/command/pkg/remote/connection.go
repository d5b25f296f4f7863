package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const (
	agentSocketEnv     = "SSH_AUTH_SOCK"
	defaultDialErrors  = 10
	unlimitedDialTries = -1
)

// Endpoint holds the settings common to the target host and the bastion host.
type Endpoint struct {
	Host               *string  `pulumi:"host"`
	Port               *float64 `pulumi:"port,optional"`
	User               *string  `pulumi:"user,optional"`
	Password           *string  `pulumi:"password,optional" provider:"secret"`
	PrivateKey         *string  `pulumi:"privateKey,optional" provider:"secret"`
	PrivateKeyPassword *string  `pulumi:"privateKeyPassword,optional" provider:"secret"`
	AgentSocketPath    *string  `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int     `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int     `pulumi:"perDialTimeout,optional"`
	HostKey            *string  `pulumi:"hostKey,optional"`
}

// Annotate sets the defaults the SDK also applies.
func (e *Endpoint) Annotate(a infer.Annotator) {
	a.Describe(&e.Host, "The address of the host to connect to.")
	a.Describe(&e.Port, "The port to connect to. Defaults to 22.")
	a.SetDefault(&e.Port, 22)
	a.Describe(&e.User, "The user that we should use for the connection.")
	a.SetDefault(&e.User, "root")
	a.Describe(&e.Password, "The password we should use for the connection.")
	a.Describe(&e.PrivateKey, "The contents of an SSH key to use for the connection. This takes preference over the password if provided.")
	a.Describe(&e.PrivateKeyPassword, "The password to use in case the private key is encrypted.")
	a.Describe(&e.AgentSocketPath, "SSH Agent socket path. Default to environment variable SSH_AUTH_SOCK if present.")
	a.Describe(&e.DialErrorLimit, "Max allowed errors on trying to dial the remote host. -1 set count to unlimited. Default value is 10.")
	a.SetDefault(&e.DialErrorLimit, defaultDialErrors)
	a.Describe(&e.PerDialTimeout, "Max number of seconds for each dial attempt. 0 implies no maximum. Default value is 15 seconds.")
	a.SetDefault(&e.PerDialTimeout, 15)
	a.Describe(&e.HostKey, "The expected host key to verify the server's identity. If not provided, the host key will be ignored.")
}

// Connection is command:remote:Connection.
type Connection struct {
	Endpoint
	Proxy *ProxyConnection `pulumi:"proxy,optional"`
}

// Annotate documents the type.
func (c *Connection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint.")
	a.Describe(&c.Proxy, "The connection settings for the bastion/proxy host.")
}

// ProxyConnection is command:remote:ProxyConnection.
type ProxyConnection struct {
	Endpoint
}

// Annotate documents the type.
func (c *ProxyConnection) Annotate(a infer.Annotator) {
	a.Describe(&c, "Instructions for how to connect to a remote endpoint via a bastion host.")
}

func (e *Endpoint) address() string {
	host := ""
	if e.Host != nil {
		host = *e.Host
	}
	port := 22
	if e.Port != nil && *e.Port > 0 {
		port = int(*e.Port)
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (e *Endpoint) dialLimit() int {
	if e.DialErrorLimit == nil {
		return defaultDialErrors
	}
	return *e.DialErrorLimit
}

// clientConfig builds the ssh client configuration: private key, then password
// (plus keyboard-interactive answering with the password), then the SSH agent.
func (e *Endpoint) clientConfig() (*ssh.ClientConfig, func(), error) {
	cleanup := func() {}
	user := "root"
	if e.User != nil && *e.User != "" {
		user = *e.User
	}
	cfg := &ssh.ClientConfig{User: user}
	timeout := 15
	if e.PerDialTimeout != nil {
		timeout = *e.PerDialTimeout
	}
	if timeout > 0 {
		cfg.Timeout = time.Duration(timeout) * time.Second
	}

	if e.PrivateKey != nil && *e.PrivateKey != "" {
		var signer ssh.Signer
		var err error
		if e.PrivateKeyPassword != nil && *e.PrivateKeyPassword != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*e.PrivateKey), []byte(*e.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*e.PrivateKey))
		}
		if err != nil {
			return nil, cleanup, fmt.Errorf("parsing privateKey: %w", err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if e.Password != nil {
		pw := *e.Password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	// An explicit agentSocketPath must work; SSH_AUTH_SOCK from the environment is
	// used when it can be reached.
	sock, explicit := "", false
	if e.AgentSocketPath != nil && *e.AgentSocketPath != "" {
		sock, explicit = *e.AgentSocketPath, true
	} else {
		sock = os.Getenv(agentSocketEnv)
	}
	if sock != "" {
		conn, err := net.Dial("unix", sock)
		if err != nil && explicit {
			return nil, cleanup, fmt.Errorf("connecting to the SSH agent at %s: %w", sock, err)
		}
		if err == nil {
			cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
			cleanup = func() { _ = conn.Close() }
		}
	}

	cb, algos, err := hostKeyCheck(e.HostKey)
	if err != nil {
		cleanup()
		return nil, func() {}, err
	}
	cfg.HostKeyCallback = cb
	if len(algos) > 0 {
		cfg.HostKeyAlgorithms = algos
	}
	return cfg, cleanup, nil
}

// hostKeyCheck returns the host key callback. Without hostKey every key is accepted
// (upstream: "If not provided, the host key will be ignored"). With hostKey the server
// must present exactly that key; hostKey is a public key line as in authorized_keys
// or a .pub file ("ssh-ed25519 AAAA... [comment]") or a known_hosts line
// ("host ssh-ed25519 AAAA..."). The client asks the server for that key type, so a
// server with several host keys presents the pinned one.
func hostKeyCheck(hostKey *string) (ssh.HostKeyCallback, []string, error) {
	if hostKey == nil || strings.TrimSpace(*hostKey) == "" {
		return ssh.InsecureIgnoreHostKey(), nil, nil
	}
	pinned, err := parseHostKey(strings.TrimSpace(*hostKey))
	if err != nil {
		return nil, nil, err
	}
	cb := func(_ string, _ net.Addr, key ssh.PublicKey) error {
		if !bytes.Equal(key.Marshal(), pinned.Marshal()) {
			return fmt.Errorf("host key mismatch: server presented %s %s, expected %s %s",
				key.Type(), ssh.FingerprintSHA256(key), pinned.Type(), ssh.FingerprintSHA256(pinned))
		}
		return nil
	}
	return cb, algorithmsFor(pinned.Type()), nil
}

func parseHostKey(s string) (ssh.PublicKey, error) {
	if key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s)); err == nil {
		return key, nil
	}
	if _, _, key, _, _, err := ssh.ParseKnownHosts([]byte(s)); err == nil {
		return key, nil
	}
	return nil, errors.New("hostKey: expected a public key line such as \"ssh-ed25519 AAAA... [comment]\" (the server's /etc/ssh/ssh_host_*_key.pub)")
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// withRetries calls f until it succeeds or limit failures happened (-1: no limit).
func withRetries[T any](ctx context.Context, what string, limit int, f func() (T, error)) (T, error) {
	var last error
	ok, v, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			r, err := f()
			if err == nil {
				return true, r, nil
			}
			last = err
			// Errors that no retry can fix are returned at once.
			var keyErr *hostKeyError
			if errors.As(err, &keyErr) {
				return true, nil, err
			}
			failures := try + 1
			if limit > unlimitedDialTries && failures > limit {
				return true, nil, fmt.Errorf("%s: %d failed attempts, last error: %w", what, failures, err)
			}
			lim := "inf"
			if limit > unlimitedDialTries {
				lim = strconv.Itoa(limit)
			}
			p.GetLogger(ctx).InfoStatusf("%s %d/%s failed: retrying", what, failures, lim)
			return false, nil, nil
		},
	})
	var zero T
	if err != nil {
		return zero, err
	}
	if !ok {
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		return zero, last
	}
	return v.(T), nil
}

type hostKeyError struct{ err error }

func (h *hostKeyError) Error() string { return h.err.Error() }
func (h *hostKeyError) Unwrap() error { return h.err }

// wrapHostKeyCheck tags host key mismatches so they are not retried.
func wrapHostKeyCheck(cfg *ssh.ClientConfig) {
	inner := cfg.HostKeyCallback
	cfg.HostKeyCallback = func(host string, remote net.Addr, key ssh.PublicKey) error {
		if err := inner(host, remote, key); err != nil {
			return &hostKeyError{err}
		}
		return nil
	}
}

// Dial connects to the target, through the bastion when proxy is set, retrying
// as dialErrorLimit allows. The returned close function releases everything.
func (c *Connection) Dial(ctx context.Context) (*ssh.Client, func(), error) {
	if c == nil || c.Host == nil {
		return nil, nil, errors.New("connection.host is required")
	}
	cfg, cleanup, err := c.clientConfig()
	if err != nil {
		return nil, nil, err
	}
	wrapHostKeyCheck(cfg)
	target := c.address()

	if c.Proxy == nil {
		client, err := withRetries(ctx, "Dial", c.dialLimit(), func() (*ssh.Client, error) {
			return ssh.Dial("tcp", target, cfg)
		})
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		return client, func() { _ = client.Close(); cleanup() }, nil
	}

	pcfg, pcleanup, err := c.Proxy.clientConfig()
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	wrapHostKeyCheck(pcfg)
	closeAll := func() { cleanup(); pcleanup() }
	bastion, err := withRetries(ctx, "Dial proxy", c.Proxy.dialLimit(), func() (*ssh.Client, error) {
		return ssh.Dial("tcp", c.Proxy.address(), pcfg)
	})
	if err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	client, err := withRetries(ctx, "Dial from proxy", c.dialLimit(), func() (*ssh.Client, error) {
		conn, err := bastion.Dial("tcp", target)
		if err != nil {
			return nil, err
		}
		if cfg.Timeout > 0 {
			_ = conn.SetDeadline(time.Now().Add(cfg.Timeout))
		}
		cc, chans, reqs, err := ssh.NewClientConn(conn, target, cfg)
		if err != nil {
			_ = conn.Close()
			return nil, err
		}
		_ = conn.SetDeadline(time.Time{})
		return ssh.NewClient(cc, chans, reqs), nil
	})
	if err != nil {
		_ = bastion.Close()
		closeAll()
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	return client, func() { _ = client.Close(); _ = bastion.Close(); closeAll() }, nil
}
