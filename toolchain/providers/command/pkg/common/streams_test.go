package common

import (
	"reflect"
	"sync"
	"testing"
)

func TestStreamsCaptureAndLogSelection(t *testing.T) {
	var mu sync.Mutex
	var logged []string
	sink := func(l string) { mu.Lock(); logged = append(logged, l); mu.Unlock() }

	s := NewStreams(sink, true, false)
	_, _ = s.Stdout().Write([]byte("one\ntw"))
	_, _ = s.Stderr().Write([]byte("err line\n"))
	_, _ = s.Stdout().Write([]byte("o\r\nthree"))
	s.Flush()

	out, errOut := s.Results()
	if out != "one\ntwo\r\nthree" || errOut != "err line" {
		t.Fatalf("results: %q %q", out, errOut)
	}
	if want := []string{"one", "two", "three"}; !reflect.DeepEqual(logged, want) {
		t.Fatalf("logged %q, want %q (stderr must not be logged)", logged, want)
	}
	if c := s.Combined(); c != "one\ntwerr line\no\r\nthree" {
		t.Fatalf("combined %q", c)
	}
}

func TestStreamsNoLogging(t *testing.T) {
	n := 0
	s := NewStreams(func(string) { n++ }, false, false)
	_, _ = s.Stdout().Write([]byte("a\nb\n"))
	_, _ = s.Stderr().Write([]byte("c\n"))
	s.Flush()
	if n != 0 {
		t.Fatalf("logged %d lines with logging none", n)
	}
	out, errOut := s.Results()
	if out != "a\nb" || errOut != "c" {
		t.Fatalf("results %q %q", out, errOut)
	}
}

func TestPreviousOutputEnv(t *testing.T) {
	f, tr := false, true
	if got := PreviousOutputEnv(&f, "o", "e"); got != nil {
		t.Fatalf("disabled: %v", got)
	}
	want := [][2]string{{EnvPreviousStdout, "o"}, {EnvPreviousStderr, "e"}}
	if got := PreviousOutputEnv(nil, "o", "e"); !reflect.DeepEqual(got, want) {
		t.Fatalf("default: %v", got)
	}
	if got := PreviousOutputEnv(&tr, "o", ""); !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("empty stderr skipped: %v", got)
	}
}

func TestUpdateCommand(t *testing.T) {
	c, u := "create", "update"
	if got := (&ResourceInputs{Create: &c}).UpdateCommand(); got != &c {
		t.Fatal("no update: create runs")
	}
	if got := (&ResourceInputs{Create: &c, Update: &u}).UpdateCommand(); got != &u {
		t.Fatal("update set: update runs")
	}
	if got := (&ResourceInputs{}).UpdateCommand(); got != nil {
		t.Fatal("neither: nothing runs")
	}
}
