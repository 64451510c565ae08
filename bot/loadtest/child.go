package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"sync"
	"time"
)

// The side under test runs in a child process of this same binary, so
// that its peak RSS is its own and not the fakes': the fakes keep every
// call and message they see, which would swamp the bot's share. The
// parent and the child speak a line protocol: the spec goes in the
// environment; the parent writes "mem" for a memory reading and closes
// stdin to stop the child, which then answers with its final reading.
const (
	envRole = "AWS_RESET_LOADTEST_ROLE" // "bot" or "baseline"
	envSpec = "AWS_RESET_LOADTEST_SPEC" // a file holding it: one variable may hold only 128 KiB

	envCPUProfile = "AWS_RESET_LOADTEST_CPUPROFILE"
	envMemProfile = "AWS_RESET_LOADTEST_MEMPROFILE"
)

// Side is the side under test, running somewhere: it can be asked for its
// memory and stopped.
type Side interface {
	Memory() (Memory, error)
	Stop() (Memory, error)
}

// startChild starts role ("bot" or "baseline") for spec in a child process.
func startChild(role string, spec BotSpec, cpuProfile, memProfile string, stderr io.Writer) (Side, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "aws-reset-loadtest-spec-")
	if err != nil {
		return nil, err
	}
	_, err = f.Write(js)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("write the spec: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envRole+"="+role, envSpec+"="+f.Name(),
		envCPUProfile+"="+cpuProfile, envMemProfile+"="+memProfile)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("start the %s child: %w", role, err)
	}
	return &childSide{cmd: cmd, in: in, out: bufio.NewScanner(out)}, nil
}

type childSide struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func (c *childSide) read() (Memory, error) {
	if !c.out.Scan() {
		if err := c.out.Err(); err != nil {
			return Memory{}, err
		}
		return Memory{}, errors.New("the child ended without an answer")
	}
	var m Memory
	if err := json.Unmarshal(c.out.Bytes(), &m); err != nil {
		return Memory{}, fmt.Errorf("child answer %q: %w", c.out.Text(), err)
	}
	return m, nil
}

func (c *childSide) Memory() (Memory, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.in, "mem\n"); err != nil {
		return Memory{}, err
	}
	return c.read()
}

func (c *childSide) Stop() (Memory, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.in.Close()
	m, err := c.read()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case werr := <-done:
		if err == nil && werr != nil {
			err = fmt.Errorf("child: %w", werr)
		}
	case <-time.After(60 * time.Second):
		_ = c.cmd.Process.Kill()
		<-done
		err = errors.Join(err, errors.New("the child did not stop within 60s; killed"))
	}
	return m, err
}

// inProcess runs the side under test in this process: for benchmarks and
// profiling, where its memory cannot be told from the fakes'.
type inProcess struct {
	cancel context.CancelFunc
	done   chan error
}

func startInProcess(role string, spec BotSpec, logOut io.Writer) Side {
	ctx, cancel := context.WithCancel(context.Background())
	s := &inProcess{cancel: cancel, done: make(chan error, 1)}
	go func() {
		if role == "baseline" {
			s.done <- RunBaseline(ctx, spec)
			return
		}
		s.done <- RunBot(ctx, spec, logOut)
	}()
	return s
}

func (s *inProcess) Memory() (Memory, error) { return SelfMemory() }

func (s *inProcess) Stop() (Memory, error) {
	s.cancel()
	select {
	case err := <-s.done:
		m, merr := SelfMemory()
		return m, errors.Join(err, merr)
	case <-time.After(60 * time.Second):
		return Memory{}, errors.New("the side under test did not stop within 60s")
	}
}

// childMain is main for a child process: it runs the role named in the
// environment until stdin closes, answering "mem" lines with a reading.
func childMain(role string) error {
	var spec BotSpec
	js, err := os.ReadFile(os.Getenv(envSpec))
	if err == nil {
		os.Remove(os.Getenv(envSpec)) // read once; the parent leaves it to the child
		err = json.Unmarshal(js, &spec)
	}
	if err != nil {
		return fmt.Errorf("read the spec: %w", err)
	}
	if path := os.Getenv(envCPUProfile); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		if role == "baseline" {
			done <- RunBaseline(ctx, spec)
			return
		}
		done <- RunBot(ctx, spec, io.Discard)
	}()
	enc := json.NewEncoder(os.Stdout)
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "mem" {
			m, err := SelfMemory()
			if err != nil {
				return err
			}
			if err := enc.Encode(m); err != nil {
				return err
			}
		}
	}
	cancel()
	runErr := <-done
	if path := os.Getenv(envMemProfile); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	m, err := SelfMemory()
	if err != nil {
		return err
	}
	if err := enc.Encode(m); err != nil {
		return err
	}
	return runErr
}
