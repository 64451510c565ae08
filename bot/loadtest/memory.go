package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Memory is a process's resident set as /proc/<pid>/status reports it.
type Memory struct {
	RSSKiB  int64 `json:"rss_kib"`  // VmRSS: resident now
	PeakKiB int64 `json:"peak_kib"` // VmHWM: the most ever resident
}

// ReadMemory reads VmRSS and VmHWM from a /proc/<pid>/status file.
func ReadMemory(r io.Reader) (Memory, error) {
	var m Memory
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return m, fmt.Errorf("read %s: unexpected %q", key, rest)
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("read %s: %w", key, err)
		}
		if key == "VmRSS" {
			m.RSSKiB = n
		} else {
			m.PeakKiB = n
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found != 2 {
		return m, fmt.Errorf("no VmRSS and VmHWM in the status file")
	}
	return m, nil
}

// SelfMemory reads the calling process's memory.
func SelfMemory() (Memory, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	return ReadMemory(f)
}

// MiB renders KiB as MiB with one decimal.
func MiB(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }
