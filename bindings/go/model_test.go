package ernie_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ernie"
)

func TestABICheckPasses(t *testing.T) {
	if err := ernie.CheckABI(); err != nil {
		t.Fatal(err)
	}
}

func TestInfoAndMetadata(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	info, err := m.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Arch != ernie.ArchMoE || info.Layers != 4 || info.HiddenSize != 96 || info.Experts != 16 || info.ExpertsUsed != 4 || info.VocabSize != 800 {
		t.Fatalf("unexpected info %+v", info)
	}
	meta, err := m.Metadata()
	if err != nil || !strings.HasPrefix(meta, "{") {
		t.Fatalf("metadata %q, %v", meta, err)
	}
	if n, err := m.SessionBytes(128, 16); err != nil || n == 0 {
		t.Fatalf("session bytes %d, %v", n, err)
	}
	if err := m.Verify(); err != nil {
		t.Fatal(err)
	}
}

func TestTokenizeMatchesGoldenAndRoundTrips(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	ids, err := m.Tokenize("Hello world", false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{708, 717, 369, 719, 295, 287, 589}; !equalTokens(ids, want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	for _, text := range []string{"Hello world", "数字 12345 and ünïcödé 🌍", ""} {
		ids, err := m.Tokenize(text, false)
		if err != nil {
			t.Fatal(err)
		}
		back, err := m.Detokenize(ids)
		if err != nil || back != text {
			t.Fatalf("%q -> %v -> %q, %v", text, ids, back, err)
		}
	}
	special, _ := m.Tokenize("<|im_start|>", true)
	plain, _ := m.Tokenize("<|im_start|>", false)
	if len(special) >= len(plain) {
		t.Fatalf("special %v, plain %v", special, plain)
	}
}

func TestChatRenderAndParse(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	prompt, err := m.ChatRender([]ernie.Message{{Role: "user", Content: "Hi"}}, nil)
	if err != nil || !strings.Contains(prompt, "Hi") {
		t.Fatalf("render %q, %v", prompt, err)
	}
	fromJSON, err := m.ChatRenderJSON(`{"messages": [{"role": "user", "content": "Hi"}]}`, "")
	if err != nil || fromJSON != prompt {
		t.Fatalf("render json %q, %v", fromJSON, err)
	}
	parsed, err := m.ChatParse("thinking</think>\n\nanswer", "thinking")
	if err != nil || !strings.Contains(parsed, `"content"`) {
		t.Fatalf("parse %q, %v", parsed, err)
	}
	_, err = m.ChatRender([]ernie.Message{{Role: "user", Content: "Hi"}}, &ernie.ChatOptions{Format: "nope"})
	var e *ernie.Error
	if !errors.As(err, &e) || e.Status != ernie.StatusInvalidArgument {
		t.Fatalf("bad format: %v", err)
	}
}

func TestLoadErrorsSayWhatIsWrong(t *testing.T) {
	_, err := ernie.Load("/nonexistent/model.ernie", nil)
	var e *ernie.Error
	if !errors.As(err, &e) || e.Status != ernie.StatusIO || !strings.Contains(e.Message, "/nonexistent/model.ernie") {
		t.Fatalf("missing file: %v", err)
	}
	if !errors.Is(err, &ernie.Error{Status: ernie.StatusIO}) {
		t.Fatalf("errors.Is by status: %v", err)
	}
	junk := filepath.Join(t.TempDir(), "junk.ernie")
	os.WriteFile(junk, []byte("not a model at all, just some bytes"), 0o644)
	if _, err := ernie.Load(junk, nil); err == nil {
		t.Fatal("junk file loaded")
	}
	if _, err := ernie.Load("bad\x00path", nil); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("NUL in path: %v", err)
	}
	if _, err := ernie.Load(packed["tiny-moe-a"], &ernie.ModelOptions{Backend: "quantum"}); err == nil {
		t.Fatal("unknown backend accepted")
	}
}

func TestLoadProgressCancelsAndPanicsReachTheCaller(t *testing.T) {
	var seen []float32
	m, err := ernie.Load(packed["tiny-moe-a"], &ernie.ModelOptions{Progress: func(p float32) error {
		seen = append(seen, p)
		return nil
	}})
	if err != nil || len(seen) == 0 {
		t.Fatalf("progress %v, %v", seen, err)
	}
	m.Close()
	_, err = ernie.Load(packed["tiny-moe-a"], &ernie.ModelOptions{Progress: func(float32) error { return ernie.ErrStop }})
	if !errors.Is(err, &ernie.Error{Status: ernie.StatusCancelled}) {
		t.Fatalf("cancel: %v", err)
	}
	mine := errors.New("my reason")
	_, err = ernie.Load(packed["tiny-moe-a"], &ernie.ModelOptions{Progress: func(float32) error { return mine }})
	if !errors.Is(err, mine) {
		t.Fatalf("callback error: %v", err)
	}
	defer func() {
		if r := recover(); r != "progress panicked" {
			t.Fatalf("recovered %v", r)
		}
	}()
	ernie.Load(packed["tiny-moe-a"], &ernie.ModelOptions{Progress: func(float32) error { panic("progress panicked") }})
	t.Fatal("the panic was not re-raised")
}

func TestDetokenizeRefusesUnknownIDs(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	if _, err := m.Detokenize([]int32{1000000}); !errors.Is(err, &ernie.Error{Status: ernie.StatusInvalidArgument}) {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestPackErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "never.ernie")
	if err := ernie.Pack("/nonexistent/checkpoint", out, nil); err == nil {
		t.Fatal("packed a missing checkpoint")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("output written on failure")
	}
}

func TestLogSinkReceivesMessages(t *testing.T) {
	got := make(chan string, 100)
	m, err := ernie.Load(packed["tiny-moe-a"], &ernie.ModelOptions{LogLevel: ernie.LogDebug, Log: func(_ ernie.LogLevel, msg string) {
		select {
		case got <- msg:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Close() // the session keeps the model (and its log sink) alive
	if _, err := s.Generate(context.Background(), []int32{1}, &ernie.GenerateOptions{MaxTokens: 2}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	t.Logf("%d log messages", len(got))
}

func TestResourceLimitsRefuseWithOutOfMemory(t *testing.T) {
	path := packed["tiny-moe-b"]
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	size := uint64(info.Size())
	if m, err := ernie.Load(path, &ernie.ModelOptions{MaxFileBytes: size}); err != nil {
		t.Fatalf("at the limit: %v", err)
	} else {
		m.Close()
	}
	_, err = ernie.Load(path, &ernie.ModelOptions{MaxFileBytes: size - 1})
	var e *ernie.Error
	if !errors.As(err, &e) || e.Status != ernie.StatusOutOfMemory || !strings.Contains(e.Message, "max_file_bytes") {
		t.Fatalf("past the limit: %v", err)
	}
	m, err := ernie.Load(path, &ernie.ModelOptions{MaxContext: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.NewSession(&ernie.SessionOptions{Context: 65}); !errors.Is(err, &ernie.Error{Status: ernie.StatusOutOfMemory}) {
		t.Fatalf("n_ctx past max_context: %v", err)
	}
	s, err := m.NewSession(&ernie.SessionOptions{Context: 64})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}
