package ernie_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"ernie"
)

func TestRawGenerationMatchesTheCCLI(t *testing.T) {
	for _, name := range []string{"tiny-moe-a", "tiny-moe-b"} {
		m := loadModel(t, name)
		s := newSession(t, m, nil)
		prompt, err := m.Tokenize("Hello world", true)
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Generate(context.Background(), prompt, seeded(7, 24), nil)
		if err != nil {
			t.Fatal(err)
		}
		c := cliTokens(t, "-m", packed[name], "--raw", "-p", "Hello world", "--seed", "7", "-n", "24")
		if len(r.Tokens) == 0 || !equalTokens(r.Tokens, c) {
			t.Fatalf("%s: Go %v, C %v", name, r.Tokens, c)
		}
	}
}

// The case every binding's tests share with the C CLI (C#: SeededTokensMatchTheC):
// hot sampling, so each token depends on the seed.
func TestTheSharedCrossLanguageSeedCaseMatchesTheCCLI(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	prompt, _ := m.Tokenize("Hello world", true)
	hot := func(seed uint64) *ernie.GenerateOptions {
		o := seeded(seed, 16)
		o.Sampling.Temperature, o.Sampling.TopK, o.Sampling.TopP, o.Sampling.MinP = 1.5, 0, 1, 0
		return o
	}
	r, err := s.Generate(context.Background(), prompt, hot(1234), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cliTokens(t, "-m", packed["tiny-moe-b"], "--raw", "-p", "Hello world", "--temp", "1.5", "--top-k", "0",
		"--top-p", "1", "--min-p", "0", "--seed", "1234", "-n", "16")
	t.Logf("seed 1234: %v", r.Tokens)
	if !equalTokens(r.Tokens, c) {
		t.Fatalf("Go %v, C %v", r.Tokens, c)
	}
	distinct := map[int32]bool{}
	for _, tok := range r.Tokens {
		distinct[tok] = true
	}
	if len(distinct) <= 3 {
		t.Fatalf("tokens do not vary: %v", r.Tokens)
	}
	if other, _ := s.Generate(context.Background(), prompt, hot(99), nil); equalTokens(other.Tokens, r.Tokens) {
		t.Fatal("another seed gave the same tokens")
	}
}

func TestChatGenerationMatchesTheCCLI(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	r, err := s.Chat(context.Background(), []ernie.Message{{Role: "user", Content: "Hi there"}}, nil, seeded(11, 32), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := cliTokens(t, "-m", packed["tiny-moe-b"], "-p", "Hi there", "--seed", "11", "-n", "32")
	if !equalTokens(r.Tokens, c) {
		t.Fatalf("Go %v, C %v", r.Tokens, c)
	}
}

func TestGreedyGenerationFollowsTheGoldenReference(t *testing.T) {
	// tests/data/tiny-moe-b/golden/cases.json: greedy continuation of [1].
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	r, err := s.Generate(context.Background(), []int32{1}, &ernie.GenerateOptions{MaxTokens: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{751, 402, 236, 204}; !equalTokens(r.Tokens, want) {
		t.Fatalf("tokens %v, want %v", r.Tokens, want)
	}
}

func TestStreamedTextIsTheResultTextAndErrStopStops(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	var text, reasoning strings.Builder
	r, err := s.Chat(context.Background(), []ernie.Message{{Role: "user", Content: "Tell me a story"}}, nil, seeded(3, 40), func(e ernie.Event) error {
		switch e.Kind {
		case ernie.EventText:
			text.WriteString(e.Text)
		case ernie.EventReasoning:
			reasoning.WriteString(e.Text)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if text.String() != r.Text || reasoning.String() != r.Reasoning {
		t.Fatalf("streamed %q/%q, result %q/%q", text.String(), reasoning.String(), r.Text, r.Reasoning)
	}
	n := 0
	prompt, _ := m.Tokenize("Once upon", true)
	r, err = s.Generate(context.Background(), prompt, seeded(3, 40), func(ernie.Event) error {
		n++
		if n == 3 {
			return ernie.ErrStop
		}
		return nil
	})
	if err != nil || r.FinishReason != ernie.FinishCancelled || n != 3 {
		t.Fatalf("stop: %v, %v, %d events", err, r, n)
	}
	if r, err := s.Generate(context.Background(), prompt, seeded(3, 5), nil); err != nil || r.FinishReason != ernie.FinishLength {
		t.Fatalf("after stop: %v, %v", r, err)
	}
}

func TestLogprobsStopStringsAndTheSameSeedTwice(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	s := newSession(t, m, nil)
	prompt, _ := m.Tokenize("Hello", true)
	opts := seeded(5, 12)
	opts.Logprobs = 3
	alternatives := 0
	a, err := s.Generate(context.Background(), prompt, opts, func(e ernie.Event) error {
		if e.Token >= 0 {
			if len(e.TopLogprobs) != 3 || e.Logprob > 0 {
				t.Errorf("event %+v", e)
			}
			alternatives++
		}
		return nil
	})
	if err != nil || alternatives == 0 {
		t.Fatalf("%v, %d", err, alternatives)
	}
	b, err := s.Generate(context.Background(), prompt, opts, nil)
	if err != nil || !equalTokens(a.Tokens, b.Tokens) || b.CachedTokens < int32(len(prompt))-1 {
		t.Fatalf("second run %v (cached %d), first %v, %v", b.Tokens, b.CachedTokens, a.Tokens, err)
	}
	if runes := []rune(a.Text); len(runes) >= 4 && strings.TrimSpace(string(runes[2:4])) != "" {
		stop := string(runes[2:4])
		withStop := *opts
		withStop.StopStrings = []string{stop}
		c, err := s.Generate(context.Background(), prompt, &withStop, nil)
		if err != nil || c.FinishReason != ernie.FinishStopString || strings.Contains(c.Text, stop) {
			t.Fatalf("stop %q: %v, %v", stop, c, err)
		}
	}
}

func TestEvalLogitsTokensAndTruncate(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	info, _ := m.Info()
	s := newSession(t, m, nil)
	if err := s.Eval([]int32{1, 5, 17}, true); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.NPast(); n != 3 {
		t.Fatalf("n_past %d", n)
	}
	if toks, _ := s.Tokens(); !equalTokens(toks, []int32{1, 5, 17}) {
		t.Fatalf("tokens %v", toks)
	}
	first, err := s.Logits(0)
	if err != nil || len(first) != int(info.VocabSize) {
		t.Fatalf("logits %d, %v", len(first), err)
	}
	last, _ := s.Logits(-1)
	if err := s.Truncate(1); err != nil {
		t.Fatal(err)
	}
	if err := s.Eval([]int32{5, 17}, false); err != nil {
		t.Fatal(err)
	}
	again, _ := s.Logits(-1)
	for i := range last {
		if last[i] != again[i] {
			t.Fatalf("logit %d: %v vs %v", i, last[i], again[i])
		}
	}
	if _, err := s.Logits(0); err == nil {
		t.Fatal("logits of a token whose logits were not kept")
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
}

func TestSaveAndRestore(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	a := newSession(t, m, nil)
	a.Eval([]int32{1, 5, 17, 200}, false)
	blob, err := a.Save()
	if err != nil {
		t.Fatal(err)
	}
	b := newSession(t, m, nil)
	if err := b.Restore(blob); err != nil {
		t.Fatal(err)
	}
	if toks, _ := b.Tokens(); !equalTokens(toks, []int32{1, 5, 17, 200}) {
		t.Fatalf("restored %v", toks)
	}
	if err := b.Restore(blob[:len(blob)/2]); err == nil {
		t.Fatal("truncated blob accepted")
	}
	other := newSession(t, loadModel(t, "tiny-moe-b"), nil)
	if err := other.Restore(blob); err == nil {
		t.Fatal("another model's blob accepted")
	}
}

func TestSessionsOnTwoGoroutinesShareOneModel(t *testing.T) {
	m := loadModel(t, "tiny-moe-a")
	prompt, _ := m.Tokenize("Hello", true)
	var wg sync.WaitGroup
	results := make([][]int32, 2)
	for i := range results {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := m.NewSession(&ernie.SessionOptions{Threads: 1})
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			r, err := s.Generate(context.Background(), prompt, seeded(9, 10), nil)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = r.Tokens
		}(i)
	}
	wg.Wait()
	if !equalTokens(results[0], results[1]) {
		t.Fatalf("%v vs %v", results[0], results[1])
	}
}

func TestASessionOutlivesItsModel(t *testing.T) {
	m, err := ernie.Load(packed["tiny-moe-a"], nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSession(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m.Close()
	r, err := s.Generate(context.Background(), []int32{1}, seeded(1, 3), nil)
	if err != nil || r.GeneratedTokens < 1 {
		t.Fatalf("%v, %v", r, err)
	}
}
