// Package apiserver runs a real kube-apiserver (with its etcd) on loopback
// ports and asks it, by server-side dry-run, whether it admits the objects a
// target renders: the oracle the validator's admission checks are compared
// with. The binaries come from tools/kube, a separate Go module, so that
// k8s.io/kubernetes never enters this module's go.mod.
package apiserver

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// Binaries are the two programs the harness runs.
type Binaries struct {
	Etcd          string
	KubeAPIServer string
}

// FindBinaries returns dir/etcd and dir/kube-apiserver, or an error naming
// each one that is missing and how to build it.
func FindBinaries(dir string) (Binaries, error) {
	b := Binaries{Etcd: filepath.Join(dir, "etcd"), KubeAPIServer: filepath.Join(dir, "kube-apiserver")}
	var missing []string
	for _, p := range []string{b.Etcd, b.KubeAPIServer} {
		if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("missing %s (build them with make kube-tools, which builds the tools/kube module)", strings.Join(missing, " and "))
	}
	return b, nil
}

// Options configure Start.
type Options struct {
	// Dir holds the certificates, the token file, etcd's data and both logs;
	// the caller removes it (a test's t.TempDir()).
	Dir string
	// Timeout bounds the start of each process; 0 means one minute.
	Timeout time.Duration
	// APIServerArgs are appended to kube-apiserver's flags.
	APIServerArgs []string
}

// Server is a running etcd and kube-apiserver pair.
type Server struct {
	// URL is the API server's https://127.0.0.1:<port>.
	URL       string
	token     string
	caPEM     []byte
	etcd      *process
	apiserver *process
}

// process is a started program in its own process group.
type process struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// Start runs etcd, then kube-apiserver, and waits until the API server's
// /readyz answers ok. On failure it stops whatever it started and returns
// one line naming the process, the cause and the tail of its log.
func Start(ctx context.Context, bins Binaries, opts Options) (*Server, error) {
	s := &Server{}
	if err := s.start(ctx, bins, opts); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) start(ctx context.Context, bins Binaries, opts Options) error {
	if opts.Timeout == 0 {
		opts.Timeout = time.Minute
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := "http://127.0.0.1:" + strconv.Itoa(ports[0])
	peerURL := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	s.etcd, err = startProcess(bins.Etcd, opts.Dir, "etcd",
		"--name=oracle",
		"--data-dir="+filepath.Join(opts.Dir, "etcd-data"),
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=oracle="+peerURL,
		"--unsafe-no-fsync", // a throw-away store: no need to wait for the disk
		"--log-level=warn",
	)
	if err != nil {
		return err
	}
	if err := waitReady(ctx, s.etcd, opts.Timeout, http.DefaultClient, etcdURL+"/health", ""); err != nil {
		return err
	}

	files, err := writeCredentials(opts.Dir)
	if err != nil {
		return err
	}
	s.token, s.caPEM = files.token, files.caPEM
	s.URL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(ports[2]),
		"--tls-cert-file=" + files.cert, "--tls-private-key-file=" + files.key,
		"--token-auth-file=" + files.tokens,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + files.saKey, "--service-account-signing-key-file=" + files.saKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		// With priority and fairness on, the server waits for its own
		// bootstrap configuration objects before it reports ready.
		"--enable-priority-and-fairness=false",
		"--cert-dir=" + filepath.Join(opts.Dir, "certs"),
	}
	s.apiserver, err = startProcess(bins.KubeAPIServer, opts.Dir, "kube-apiserver", append(args, opts.APIServerArgs...)...)
	if err != nil {
		return err
	}
	client, err := rest.HTTPClientFor(s.RESTConfig())
	if err != nil {
		return fmt.Errorf("kube-apiserver client: %w", err)
	}
	if err := waitReady(ctx, s.apiserver, opts.Timeout, client, s.URL+"/readyz", s.token); err != nil {
		return err
	}
	return nil
}

// RESTConfig returns a client configuration for the server, authenticated
// as a member of system:masters.
func (s *Server) RESTConfig() *rest.Config {
	return &rest.Config{
		Host:            s.URL,
		BearerToken:     s.token,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.caPEM},
		QPS:             -1, // no client-side rate limit
		UserAgent:       "meshops-oracle",
	}
}

// Stop stops kube-apiserver, then etcd: SIGTERM to each process group, SIGKILL
// after five seconds. It is safe to call more than once.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	s.apiserver.stop()
	s.etcd.stop()
}

// Logs returns the paths of the two processes' logs.
func (s *Server) Logs() []string {
	var out []string
	for _, p := range []*process{s.etcd, s.apiserver} {
		if p != nil {
			out = append(out, p.log)
		}
	}
	return out
}

func startProcess(bin, dir, name string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so that Stop reaches anything it forks; and
	// killed with the test binary if that dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) stop() {
	if p == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// waitReady polls url until it answers 200, the process exits, or the
// timeout passes; the error is one line with the tail of the process's log.
func waitReady(ctx context.Context, p *process, timeout time.Duration, client *http.Client, url, token string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); %s", p.name, p.err, p.tail())
		case <-ctx.Done():
			return fmt.Errorf("%s was not ready after %s; %s", p.name, timeout, p.tail())
		case <-tick.C:
		}
	}
}

// tail returns the last lines of the process's log, on one line.
func (p *process) tail() string {
	data, err := os.ReadFile(p.log)
	if err != nil {
		return "no log: " + err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return fmt.Sprintf("log %s ends: %s", p.log, strings.Join(lines, " | "))
}

// freePorts reserves n distinct loopback ports and releases them for the
// processes to bind.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// credentials are the files kube-apiserver reads.
type credentials struct {
	cert, key, tokens, saKey string
	token                    string
	caPEM                    []byte
}

// writeCredentials writes a self-signed serving certificate for 127.0.0.1,
// a static token file with one token in system:masters, and the service
// account signing key the API server insists on.
func writeCredentials(dir string) (credentials, error) {
	fail := func(err error) (credentials, error) {
		return credentials{}, fmt.Errorf("write kube-apiserver credentials: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fail(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "meshops-oracle"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fail(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return fail(err)
	}
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fail(err)
	}
	saDER, err := x509.MarshalECPrivateKey(saKey)
	if err != nil {
		return fail(err)
	}
	secret := make([]byte, 16)
	if _, err := rand.Read(secret); err != nil {
		return fail(err)
	}
	c := credentials{
		cert: filepath.Join(dir, "serving.crt"), key: filepath.Join(dir, "serving.key"),
		tokens: filepath.Join(dir, "tokens.csv"), saKey: filepath.Join(dir, "sa.key"),
		token: fmt.Sprintf("%x", secret),
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	}
	files := map[string][]byte{
		c.cert:   c.caPEM,
		c.key:    pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		c.saKey:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saDER}),
		c.tokens: []byte(c.token + ",oracle,oracle,system:masters\n"),
	}
	for path, data := range files {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return fail(err)
		}
	}
	if _, err := tls.X509KeyPair(files[c.cert], files[c.key]); err != nil {
		return fail(err)
	}
	return c, nil
}
