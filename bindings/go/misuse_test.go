package ernie_test

// Deliberately wrong use ends in an error (or a re-raised panic on the
// caller's goroutine), never a crash.

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"ernie"
)

func TestDoubleCloseAndUseAfterClose(t *testing.T) {
	m, err := ernie.Load(packed["tiny-moe-a"], nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); !errors.Is(err, ernie.ErrClosed) {
		t.Fatalf("second session close: %v", err)
	}
	if _, err := s.Generate(context.Background(), []int32{1}, nil, nil); !errors.Is(err, ernie.ErrClosed) {
		t.Fatalf("generate after close: %v", err)
	}
	if err := s.Eval([]int32{1}, false); !errors.Is(err, ernie.ErrClosed) {
		t.Fatalf("eval after close: %v", err)
	}
	s.Cancel() // a no-op on a closed session
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); !errors.Is(err, ernie.ErrClosed) {
		t.Fatalf("second model close: %v", err)
	}
	if _, err := m.Tokenize("x", false); !errors.Is(err, ernie.ErrClosed) {
		t.Fatalf("tokenize after close: %v", err)
	}
	if _, err := m.NewSession(nil); !errors.Is(err, ernie.ErrClosed) {
		t.Fatalf("session after close: %v", err)
	}
	if _, err := m.Info(); !errors.Is(err, ernie.ErrClosed) {
		t.Fatalf("info after close: %v", err)
	}
}

func TestAPanickingEventCallbackStopsAndIsReRaised(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	s := newSession(t, m, nil)
	calls := 0
	func() {
		defer func() {
			if r := recover(); r != "callback panicked" {
				t.Fatalf("recovered %v", r)
			}
		}()
		s.Generate(context.Background(), []int32{1, 5}, seeded(1, 50), func(ernie.Event) error {
			calls++
			panic("callback panicked")
		})
		t.Fatal("the panic was not re-raised")
	}()
	if calls != 1 {
		t.Fatalf("callback called %d times after panicking", calls)
	}
	// The session was released and is consistent.
	if r, err := s.Generate(context.Background(), []int32{1, 5}, seeded(1, 4), nil); err != nil || r.GeneratedTokens == 0 {
		t.Fatalf("after panic: %v, %v", r, err)
	}
}

func TestAPanickingToolHandlerStopsAndIsReRaised(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	chat := &ernie.ChatOptions{ToolChoice: ernie.ToolChoiceNamed, ToolChoiceName: "f",
		Tools: []ernie.Tool{{Name: "f", ParametersJSON: `{"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}`,
			Handler: func(ernie.ToolCall) (string, error) { panic("tool panicked") }}}}
	opts := &ernie.GenerateOptions{MaxTokens: 60, Reasoning: ernie.ReasoningOff}
	func() {
		defer func() {
			if r := recover(); r != "tool panicked" {
				t.Fatalf("recovered %v", r)
			}
		}()
		s.Chat(context.Background(), []ernie.Message{{Role: "user", Content: "go"}}, chat, opts, nil)
		t.Fatal("the panic was not re-raised")
	}()
	if _, err := s.Chat(context.Background(), []ernie.Message{{Role: "user", Content: "again"}}, nil, opts, nil); err != nil {
		t.Fatal(err)
	}
}

// slowly is an event callback that signals the first event and then slows
// generation down so a cancel always lands mid-generation.
func slowly(started chan<- struct{}) func(ernie.Event) error {
	first := true
	return func(ernie.Event) error {
		if first {
			first = false
			close(started)
		}
		time.Sleep(2 * time.Millisecond)
		return nil
	}
}

func TestCancelFromAnotherGoroutine(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	s := newSession(t, m, &ernie.SessionOptions{Context: 512})
	started := make(chan struct{})
	go func() {
		<-started
		s.Cancel()
	}()
	r, err := s.Generate(context.Background(), []int32{1}, seeded(4, -1), slowly(started))
	if err != nil || r.FinishReason != ernie.FinishCancelled || r.GeneratedTokens >= 500 {
		t.Fatalf("%+v, %v", r, err)
	}
}

func TestContextCancellationStopsGeneration(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	s := newSession(t, m, &ernie.SessionOptions{Context: 512})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	r, err := s.Generate(ctx, []int32{1}, seeded(4, -1), slowly(started))
	if !errors.Is(err, context.Canceled) || r == nil || r.FinishReason != ernie.FinishCancelled {
		t.Fatalf("%+v, %v", r, err)
	}
	// A deadline, without any callback: the watcher goroutine cancels (a
	// 4096-token generation takes seconds here; the deadline is 20 ms).
	long := newSession(t, m, &ernie.SessionOptions{Context: 4096})
	ctx, stop := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer stop()
	r, err = long.Generate(ctx, []int32{1}, &ernie.GenerateOptions{MaxTokens: -1}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || r.FinishReason != ernie.FinishCancelled {
		t.Fatalf("deadline: %+v, %v", r, err)
	}
	// An already finished context runs nothing.
	if _, err := s.Generate(ctx, []int32{1}, nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("done context: %v", err)
	}
}

func TestOverlappingCallsAreRefusedNotRun(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	s := newSession(t, m, nil)
	var inside []error
	_, err := s.Generate(context.Background(), []int32{1}, seeded(1, 3), func(ernie.Event) error {
		_, e1 := s.NPast()
		_, e2 := s.Generate(context.Background(), []int32{1}, nil, nil)
		inside = append(inside, e1, e2, s.Close())
		return ernie.ErrStop
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range inside {
		if !errors.Is(e, ernie.ErrBusy) {
			t.Fatalf("call inside a callback: %v", e)
		}
	}
	if _, err := s.NPast(); err != nil {
		t.Fatalf("after: %v", err)
	}
}

func TestWrongArgumentsAreErrors(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	s := newSession(t, m, &ernie.SessionOptions{Context: 16})
	long := make([]int32, 40)
	for i := range long {
		long[i] = 1
	}
	_, err := s.Generate(context.Background(), long, nil, nil)
	var e *ernie.Error
	if !errors.As(err, &e) || e.Status != ernie.StatusContextFull || e.Message == "" {
		t.Fatalf("context full: %v", err)
	}
	for _, bad := range [][]int32{{123456}, {-1}} {
		if err := s.Eval(bad, false); !errors.Is(err, &ernie.Error{Status: ernie.StatusInvalidArgument}) {
			t.Fatalf("eval %v: %v", bad, err)
		}
	}
	if _, err := s.Generate(context.Background(), []int32{1}, &ernie.GenerateOptions{StopStrings: []string{"a\x00b"}}, nil); err == nil || !strings.Contains(err.Error(), "stop string") {
		t.Fatalf("NUL stop string: %v", err)
	}
	if err := s.Restore([]byte("definitely not a session")); err == nil {
		t.Fatal("garbage restored")
	}
	bad := ernie.DefaultSampling()
	bad.TopP = 7
	if _, err := s.Generate(context.Background(), []int32{1}, &ernie.GenerateOptions{Sampling: &bad}, nil); err == nil {
		t.Fatal("top_p 7 accepted")
	}
	if _, err := s.Generate(context.Background(), []int32{1}, seeded(1, 2), nil); err != nil {
		t.Fatalf("session broken after refusals: %v", err)
	}
	if _, err := m.NewSession(&ernie.SessionOptions{Context: 1 << 30}); err == nil {
		t.Fatal("absurd context accepted")
	}
}

func TestFinalizersFreeForgottenHandles(t *testing.T) {
	for i := 0; i < 3; i++ {
		m, err := ernie.Load(packed["tiny-moe-a"], nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.NewSession(nil); err != nil {
			t.Fatal(err)
		}
		// Neither is closed: the finalizers release them.
	}
	runtime.GC()
	runtime.GC()
}
