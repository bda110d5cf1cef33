package nodetest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Netns is a pair of network namespaces, one for a writer and one for a
// node, joined by a veth pair on a private /30 that exists only inside them.
// Cut drops every packet on the link with a qdisc (`tc qdisc add dev X root
// pfifo limit 0`): a silent partition, no RST, no FIN; Heal deletes the
// qdisc. NewNetns removes the namespaces (and so the link) when the test
// ends, whatever its outcome.
type Netns struct {
	WriterNS, NodeNS     string
	WriterDev, NodeDev   string
	WriterAddr, NodeAddr string
}

// NewNetns creates the namespaces, or skips the test without root (network
// namespaces need it; CI runs as root).
func NewNetns(t testing.TB) *Netns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("this partition test needs root, for network namespaces (CI runs as root)")
	}
	// Unique names (interface names are at most 15 bytes), and a private
	// subnet that exists only inside the two namespaces.
	tag := fmt.Sprintf("%x", uint32(os.Getpid())<<12|rand.Uint32()&0xfff)
	n := &Netns{
		WriterNS: "hermes-w-" + tag, NodeNS: "hermes-n-" + tag,
		WriterDev: "hw" + tag, NodeDev: "hn" + tag,
	}
	sub := fmt.Sprintf("10.%d.%d.", 200+rand.IntN(50), rand.IntN(256))
	n.WriterAddr, n.NodeAddr = sub+"1", sub+"2"
	run(t, "ip", "netns", "add", n.WriterNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.WriterNS).Run() })
	run(t, "ip", "netns", "add", n.NodeNS)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", n.NodeNS).Run() })
	run(t, "ip", "link", "add", n.WriterDev, "netns", n.WriterNS, "type", "veth", "peer", "name", n.NodeDev, "netns", n.NodeNS)
	for _, side := range [][3]string{{n.WriterNS, n.WriterDev, n.WriterAddr}, {n.NodeNS, n.NodeDev, n.NodeAddr}} {
		run(t, "ip", "-n", side[0], "addr", "add", side[2]+"/30", "dev", side[1])
		run(t, "ip", "-n", side[0], "link", "set", side[1], "up")
		run(t, "ip", "-n", side[0], "link", "set", "lo", "up")
	}
	return n
}

// InWriterNS and InNodeNS are command prefixes that run a command in a
// namespace (for Start and SelfCommand).
func (n *Netns) InWriterNS() []string { return []string{"ip", "netns", "exec", n.WriterNS} }
func (n *Netns) InNodeNS() []string   { return []string{"ip", "netns", "exec", n.NodeNS} }

// Cut drops every packet both ways.
func (n *Netns) Cut(t testing.TB) {
	t.Helper()
	run(t, "ip", "netns", "exec", n.WriterNS, "tc", "qdisc", "add", "dev", n.WriterDev, "root", "pfifo", "limit", "0")
	run(t, "ip", "netns", "exec", n.NodeNS, "tc", "qdisc", "add", "dev", n.NodeDev, "root", "pfifo", "limit", "0")
}

// Heal lets packets through again.
func (n *Netns) Heal(t testing.TB) {
	t.Helper()
	run(t, "ip", "netns", "exec", n.WriterNS, "tc", "qdisc", "del", "dev", n.WriterDev, "root")
	run(t, "ip", "netns", "exec", n.NodeNS, "tc", "qdisc", "del", "dev", n.NodeDev, "root")
}

func run(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
