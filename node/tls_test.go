package node

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"google.golang.org/grpc/credentials"

	"github.com/hermes-search/hermes-go/internal/nodetest"
)

const (
	tlsEnv       = "HERMES_TEST_TLS" // a directory with ca.pem, cert.pem, key.pem
	tlsWriterEnv = "HERMES_TEST_TLS_WRITER"
)

// writeTestCerts writes a CA and a certificate it signed for 127.0.0.1,
// good for both server and client authentication, into dir.
func writeTestCerts(t *testing.T, dir string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hermes test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "hermes test"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{
		"ca.pem": {Type: "CERTIFICATE", Bytes: caDER}, "cert.pem": {Type: "CERTIFICATE", Bytes: der}, "key.pem": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// loadTestTLS returns mutual-TLS credentials from a writeTestCerts dir.
func loadTestTLS(dir string) (*TLS, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("no CA certificate")
	}
	return &TLS{
		Server: credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS13}),
		Client: credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS13}),
	}, nil
}

// A node with TLS serves a writer with TLS (mutual authentication) and
// does not talk to a writer without.
func TestTLS(t *testing.T) {
	t.Parallel()
	certs := t.TempDir()
	writeTestCerts(t, certs)
	n := startNodeWith(t, []string{tlsEnv + "=" + certs}, nil)

	cmd := nodetest.SelfCommand(nil, tlsWriterEnv+"=1", tlsEnv+"="+certs, nodeAddrEnv+"="+n.addr)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "greeted over TLS") {
		t.Fatalf("writer with TLS: %v\n%s", err, out)
	}

	// This process's writer speaks plain gRPC: the TLS handshake fails,
	// and the spawn with it.
	sys := writer()
	start := time.Now()
	_, err = Connect(sys, n.addr, "host-plain", writerActor(t, sys), testTimeout)
	if err == nil {
		t.Fatal("a writer without TLS was served by a node with TLS")
	}
	t.Logf("plain writer refused after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// runTLSWriter is a writer process with TLS: it greets the node and exits.
func runTLSWriter() int {
	creds, err := loadTestTLS(os.Getenv(tlsEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	sys := quietSystem()
	if _, err := StartRemote(sys, "127.0.0.1", 0, creds); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w := sys.Root.Spawn(actor.PropsFromFunc(func(actor.Context) {}))
	h, err := Connect(sys, os.Getenv(nodeAddrEnv), "host-tls", w, testTimeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("greeted over TLS; file server", h.Files)
	return 0
}
