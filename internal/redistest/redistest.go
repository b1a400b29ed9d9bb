// Package redistest starts a real redis-server for tests: on a free
// loopback port, with no persistence, ended when the test ends.
package redistest

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a redis-server that a test started.
type Server struct {
	// Addr is its host:port on 127.0.0.1.
	Addr string
	cmd  *exec.Cmd
}

// Start starts redis-server, or skips the test, saying why, when the binary
// is missing (apt-get install redis-server).
func Start(tb testing.TB) *Server {
	tb.Helper()
	return start(tb)
}

// start starts redis-server with extra arguments.
func start(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server is not installed (apt-get install redis-server): the Redis tests did not run")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--loglevel", "notice"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = tb.TempDir() // a cluster node writes its nodes.conf here
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	tb.Cleanup(s.Kill)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "Ready to accept connections") {
			go func() { // keep reading, so that redis-server never blocks on its log
				for sc.Scan() {
				}
			}()
			return s
		}
	}
	tb.Fatalf("redis-server on port %d did not start: %v", port, sc.Err())
	return nil
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return "redis://" + s.Addr }

// Kill ends the server at once, as a crash would.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

// StartCluster starts a Redis Cluster of n masters (at least 3) on
// loopback, joined by redis-cli --cluster create, and returns their
// addresses once the cluster answers "cluster_state:ok"; it skips the test
// when redis-server or redis-cli is missing.
func StartCluster(tb testing.TB, n int) []string {
	tb.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Skip("redis-cli is not installed (apt-get install redis-server): the Redis Cluster tests did not run")
	}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = start(tb, "--cluster-enabled", "yes", "--cluster-node-timeout", "5000").Addr
	}
	args := append([]string{"--cluster", "create"}, addrs...)
	out, err := exec.Command(cli, append(args, "--cluster-replicas", "0", "--cluster-yes")...).CombinedOutput()
	if err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	// Every node must know the whole map before a client is handed it:
	// the nodes learn it by gossip, a second or so after create.
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		for {
			host, port, _ := net.SplitHostPort(addr)
			info, err := exec.Command(cli, "-h", host, "-p", port, "cluster", "info").Output()
			if err == nil && strings.Contains(string(info), "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("redis cluster node %s not ready: %v\n%s", addr, err, info)
			}
			time.Sleep(50 * time.Millisecond) // polling another process's state: nothing to wait on
		}
	}
	return addrs
}
