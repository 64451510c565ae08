package main

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// On a virtual machine the host may run other guests on the CPUs it lends
// this one: the time it takes back is "steal" in /proc/stat. A burst's
// acks last a few hundred milliseconds, so a host that stalls a vCPU for
// tens of them moves a p99 more than anything the bot does. The load test
// reports the share stolen during each side's acks, so a figure can be
// read against the machine it was taken on, and the CPU time the whole
// machine (fakes, bot or bare clients, database) spent meanwhile, which
// the host's stalls do not inflate.

// cpuTimes is the machine's CPU time so far, in clock ticks, summed over
// its CPUs.
type cpuTimes struct {
	busy, idle, steal uint64
}

// readCPUTimes reads the machine's CPU times; ok is false where there is
// no /proc/stat to read (not Linux).
func readCPUTimes() (t cpuTimes, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, false
	}
	return parseCPUTimes(b)
}

// parseCPUTimes reads the "cpu" line of /proc/stat: user, nice, system,
// idle, iowait, irq, softirq, steal, then guest time (already counted in
// user). Kernels before 2.6.11 have no steal field: ok is false.
func parseCPUTimes(stat []byte) (t cpuTimes, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(stat))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || f[0] != "cpu" {
			continue
		}
		if len(f) < 9 {
			return cpuTimes{}, false
		}
		var v [8]uint64
		for i := range v {
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return cpuTimes{}, false
			}
			v[i] = n
		}
		return cpuTimes{busy: v[0] + v[1] + v[2] + v[5] + v[6], idle: v[3] + v[4], steal: v[7]}, true
	}
	return cpuTimes{}, false
}

// clockTick is the unit of /proc/stat: USER_HZ, 100 on every Linux
// architecture Go runs on.
const clockTick = 10 * time.Millisecond

// busyTime is the CPU time the machine spent working from a to b.
func busyTime(a, b cpuTimes) time.Duration {
	return time.Duration(b.busy-a.busy) * clockTick
}

// stolenShare is the share of all CPU time from a to b that the host
// took back: 0 with no time passed.
func stolenShare(a, b cpuTimes) float64 {
	total := (b.busy - a.busy) + (b.idle - a.idle) + (b.steal - a.steal)
	if total == 0 {
		return 0
	}
	return float64(b.steal-a.steal) / float64(total)
}
