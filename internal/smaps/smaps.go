// Package smaps reads how much of a process's file mappings is resident,
// from /proc/self/smaps (Linux), for tests of what stays in memory.
package smaps

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Resident returns how many bytes of this process's mappings of the files
// whose path keep accepts are resident. A path is as smaps prints it: a
// file deleted while mapped ends in " (deleted)". The error of opening
// smaps is an *fs.PathError (the system has none: skip, don't fail).
func Resident(keep func(path string) bool) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	in := false // the lines below belong to a mapping keep accepts
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && keep(strings.Join(fields[5:], " "))
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("smaps line %q: %w", sc.Text(), err)
			}
			total += kb << 10
		}
	}
	return total, sc.Err()
}
