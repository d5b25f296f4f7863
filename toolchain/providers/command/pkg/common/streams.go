// Package common holds the pieces shared by the local and remote command resources:
// capturing a process's stdout/stderr while streaming selected lines to the engine.
package common

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"

	p "github.com/pulumi/pulumi-go-provider"
)

// Names of the environment variables that carry the previous run's output.
const (
	EnvPreviousStdout = "PULUMI_COMMAND_STDOUT"
	EnvPreviousStderr = "PULUMI_COMMAND_STDERR"
)

// LineSink receives complete lines of process output that should be logged.
type LineSink func(line string)

// EngineSink sends each line to the engine as an ephemeral info status message,
// which is how the upstream provider streams command output.
func EngineSink(ctx context.Context) LineSink {
	return func(line string) { p.GetLogger(ctx).InfoStatus(line) }
}

// Streams captures stdout and stderr of one command run. Each stream is kept in
// its own buffer, both are also kept interleaved (for error messages), and the
// streams selected for logging are split into lines and handed to a LineSink.
type Streams struct {
	mu       sync.Mutex
	stdout   bytes.Buffer
	stderr   bytes.Buffer
	combined bytes.Buffer
	sink     LineSink

	outLine *lineSplitter
	errLine *lineSplitter
}

// NewStreams prepares capture; logStdout/logStderr select what reaches sink.
func NewStreams(sink LineSink, logStdout, logStderr bool) *Streams {
	s := &Streams{sink: sink}
	if logStdout && sink != nil {
		s.outLine = &lineSplitter{}
	}
	if logStderr && sink != nil {
		s.errLine = &lineSplitter{}
	}
	return s
}

type streamWriter struct {
	s     *Streams
	buf   *bytes.Buffer
	lines *lineSplitter
}

func (w streamWriter) Write(b []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.buf.Write(b)
	w.s.combined.Write(b)
	if w.lines != nil {
		for _, l := range w.lines.feed(b) {
			w.s.sink(l)
		}
	}
	return len(b), nil
}

// Stdout is the writer to attach to the process's standard output.
func (s *Streams) Stdout() io.Writer { return streamWriter{s, &s.stdout, s.outLine} }

// Stderr is the writer to attach to the process's standard error.
func (s *Streams) Stderr() io.Writer { return streamWriter{s, &s.stderr, s.errLine} }

// Flush logs any trailing partial lines. Call it once the process has exited.
func (s *Streams) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ls := range []*lineSplitter{s.outLine, s.errLine} {
		if ls == nil {
			continue
		}
		if rest, ok := ls.rest(); ok {
			s.sink(rest)
		}
	}
}

// Results returns stdout and stderr with one trailing newline removed, as the
// upstream provider stores them.
func (s *Streams) Results() (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSuffix(s.stdout.String(), "\n"), strings.TrimSuffix(s.stderr.String(), "\n")
}

// Combined returns stdout and stderr interleaved in arrival order.
func (s *Streams) Combined() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.combined.String()
}

// lineSplitter turns a byte stream into complete lines (without "\n" or "\r\n").
type lineSplitter struct{ pending []byte }

func (l *lineSplitter) feed(b []byte) []string {
	var out []string
	l.pending = append(l.pending, b...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		out = append(out, strings.TrimSuffix(string(l.pending[:i]), "\r"))
		l.pending = l.pending[i+1:]
	}
	return out
}

func (l *lineSplitter) rest() (string, bool) {
	if len(l.pending) == 0 {
		return "", false
	}
	r := strings.TrimSuffix(string(l.pending), "\r")
	l.pending = nil
	return r, true
}

// PreviousOutputEnv returns the PULUMI_COMMAND_STDOUT/STDERR pairs to add to the
// next run when addPreviousOutputInEnv is unset (defaults to true) or true.
// Empty values are not passed, matching upstream.
func PreviousOutputEnv(addPrevious *bool, stdout, stderr string) [][2]string {
	if addPrevious != nil && !*addPrevious {
		return nil
	}
	var env [][2]string
	if stdout != "" {
		env = append(env, [2]string{EnvPreviousStdout, stdout})
	}
	if stderr != "" {
		env = append(env, [2]string{EnvPreviousStderr, stderr})
	}
	return env
}
