package main

import "sync"

// streamWriters returns stdout and stderr writers that forward each write as one message on a
// gRPC server stream. exec.Cmd copies stdout and stderr from two goroutines, and a gRPC stream
// must not be sent on concurrently, hence the shared lock (the sdk's rpcutil helpers have none).
// send is also exposed locked, for the final message (e.g. the exit code).
func streamWriters(send func(stdout bool, b []byte) error) (stdout, stderr *streamWriter, locked func(func() error) error) {
	mu := &sync.Mutex{}
	locked = func(f func() error) error {
		mu.Lock()
		defer mu.Unlock()
		return f()
	}
	stdout = &streamWriter{stdout: true, send: send, locked: locked}
	stderr = &streamWriter{stdout: false, send: send, locked: locked}
	return stdout, stderr, locked
}

type streamWriter struct {
	stdout bool
	send   func(stdout bool, b []byte) error
	locked func(func() error) error
}

func (w *streamWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	// gRPC does not allow changing a message after Send (stats handlers may read it later),
	// and exec reuses its buffer.
	b := append([]byte(nil), p...)
	if err := w.locked(func() error { return w.send(w.stdout, b) }); err != nil {
		return 0, err
	}
	return len(p), nil
}
