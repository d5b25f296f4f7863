package main

import (
	"sync"
	"testing"
)

func TestStreamWritersSerialiseAndCopy(t *testing.T) {
	var (
		inSend  bool
		overlap bool
		got     = map[bool][]string{}
	)
	stdout, stderr, _ := streamWriters(func(isStdout bool, b []byte) error {
		if inSend {
			overlap = true
		}
		inSend = true
		got[isStdout] = append(got[isStdout], string(b))
		inSend = false
		return nil
	})

	var wg sync.WaitGroup
	for _, w := range []*streamWriter{stdout, stderr} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := []byte("x")
			for range 1000 {
				if _, err := w.Write(buf); err != nil {
					t.Error(err)
				}
				buf[0] = 'y' // the writer must have taken a copy
			}
		}()
	}
	wg.Wait()
	if overlap {
		t.Error("send was called concurrently")
	}
	if len(got[true]) != 1000 || len(got[false]) != 1000 || got[true][0] != "x" || got[true][1] != "y" {
		t.Errorf("stdout %d, stderr %d messages", len(got[true]), len(got[false]))
	}
}
