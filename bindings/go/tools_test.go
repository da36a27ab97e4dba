package ernie_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"ernie"
)

const (
	weatherSchema = `{"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"]}`
	addSchema     = `{"type": "object", "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 99}, "b": {"type": "integer"}}, "required": ["a", "b"]}`
)

func TestManualModeReportsARequiredCall(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	chat := &ernie.ChatOptions{ToolChoice: ernie.ToolChoiceRequired, SingleToolCall: true,
		Tools: []ernie.Tool{{Name: "get_weather", Description: "Current weather", ParametersJSON: weatherSchema}}}
	opts := seeded(2, 200)
	opts.Sampling.Temperature = 1
	opts.Reasoning = ernie.ReasoningOff
	events := 0
	r, err := s.Chat(context.Background(), []ernie.Message{{Role: "user", Content: "Weather in Paris?"}}, chat, opts, func(e ernie.Event) error {
		if e.ToolCall != nil {
			events++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.FinishReason != ernie.FinishToolCalls || len(r.ToolCalls) != 1 || events != 1 {
		t.Fatalf("%+v, %d events", r, events)
	}
	c := r.ToolCalls[0]
	if c.Name != "get_weather" || !strings.HasPrefix(c.ID, "call_") || !strings.Contains(c.ArgumentsJSON, `"city"`) {
		t.Fatalf("call %+v", c)
	}
}

func TestAutomaticModeRunsTheHandlerAndContinues(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	var calls []ernie.ToolCall
	chat := &ernie.ChatOptions{ToolChoice: ernie.ToolChoiceNamed, ToolChoiceName: "add", SingleToolCall: true,
		Tools: []ernie.Tool{
			{Name: "get_weather", ParametersJSON: weatherSchema},
			{Name: "add", Description: "Adds two integers", ParametersJSON: addSchema, Handler: func(c ernie.ToolCall) (string, error) {
				calls = append(calls, c)
				return `{"sum": 5}`, nil
			}},
		}}
	r, err := s.Chat(context.Background(), []ernie.Message{{Role: "user", Content: "Add 2 and 3"}}, chat,
		&ernie.GenerateOptions{MaxTokens: 300, ReasoningBudget: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 || calls[0].Name != "add" {
		t.Fatalf("calls %+v", calls)
	}
	if !strings.Contains(r.MessagesJSON, `"tool"`) || !strings.Contains(r.MessagesJSON, `{\"sum\": 5}`) {
		t.Fatalf("messages %s", r.MessagesJSON)
	}
}

func TestDeferredCallsComeBackAsToolMessages(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	chat := &ernie.ChatOptions{ToolChoice: ernie.ToolChoiceNamed, ToolChoiceName: "get_weather",
		Tools: []ernie.Tool{{Name: "get_weather", ParametersJSON: weatherSchema,
			Handler: func(ernie.ToolCall) (string, error) { return "", ernie.ErrDefer }}}}
	user := ernie.Message{Role: "user", Content: "Weather in Oslo?"}
	opts := &ernie.GenerateOptions{MaxTokens: 60, Reasoning: ernie.ReasoningOff}
	r, err := s.Chat(context.Background(), []ernie.Message{user}, chat, opts, nil)
	if err != nil || r.FinishReason != ernie.FinishToolCalls || len(r.ToolCalls) != 1 {
		t.Fatalf("%+v, %v", r, err)
	}
	call := r.ToolCalls[0]
	turn := []ernie.Message{user, {Role: "assistant", ToolCalls: []ernie.ToolCall{call}},
		{Role: "tool", Content: `{"temp": -3}`, ToolCallID: call.ID}}
	opts.MaxTokens = 8
	next, err := s.Chat(context.Background(), turn, &ernie.ChatOptions{Tools: []ernie.Tool{{Name: "get_weather", ParametersJSON: weatherSchema}}}, opts, nil)
	if err != nil || next.CachedTokens == 0 {
		t.Fatalf("%+v, %v", next, err)
	}
}

func TestAToolHandlerErrorStopsAndIsReturned(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	mine := errors.New("weather service down")
	chat := &ernie.ChatOptions{ToolChoice: ernie.ToolChoiceNamed, ToolChoiceName: "get_weather",
		Tools: []ernie.Tool{{Name: "get_weather", ParametersJSON: weatherSchema,
			Handler: func(ernie.ToolCall) (string, error) { return "", mine }}}}
	r, err := s.Chat(context.Background(), []ernie.Message{{Role: "user", Content: "Weather?"}}, chat,
		&ernie.GenerateOptions{MaxTokens: 60, Reasoning: ernie.ReasoningOff}, nil)
	if !errors.Is(err, mine) || r == nil || r.FinishReason != ernie.FinishToolCalls {
		t.Fatalf("%+v, %v", r, err)
	}
}

func TestBadToolDefinitionsAreRefused(t *testing.T) {
	m := loadModel(t, "tiny-moe-b")
	s := newSession(t, m, nil)
	opts := &ernie.GenerateOptions{MaxTokens: 4, Reasoning: ernie.ReasoningOff}
	hi := []ernie.Message{{Role: "user", Content: "Hi"}}
	_, err := s.Chat(context.Background(), hi, &ernie.ChatOptions{Tools: []ernie.Tool{{Name: "broken", ParametersJSON: "{not json"}}}, opts, nil)
	if !errors.Is(err, &ernie.Error{Status: ernie.StatusInvalidArgument}) {
		t.Fatalf("bad schema: %v", err)
	}
	_, err = s.Chat(context.Background(), hi, &ernie.ChatOptions{ToolChoice: ernie.ToolChoiceNamed, ToolChoiceName: "missing",
		Tools: []ernie.Tool{{Name: "present", ParametersJSON: weatherSchema}}}, opts, nil)
	if err == nil {
		t.Fatal("unknown named tool accepted")
	}
}
