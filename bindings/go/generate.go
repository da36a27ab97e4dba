package ernie

/*
#include "shims.h"
*/
import "C"

import (
	"unsafe"
)

// Sampling says how the next token is drawn (docs/sampling.md). Start from
// DefaultSampling(): the zero value is not the library's defaults.
type Sampling struct {
	Temperature       float32 // 0 = greedy
	TopK              int32   // 0 = off
	TopP              float32 // 1 = off
	MinP              float32 // 0 = off
	RepetitionPenalty float32 // 1 = off
	PresencePenalty   float32
	FrequencyPenalty  float32
	PenaltyWindow     int32
	Seed              uint64 // same seed + same inputs = same tokens
	// LogitBias is added to the logits of its tokens; float32(math.Inf(-1)) bans one.
	LogitBias map[int32]float32
}

// DefaultSampling is the library's defaults (temperature 0.8, top-k 40,
// top-p 0.95, min-p 0.05, seed 0).
func DefaultSampling() Sampling {
	var p C.ernie_sampling_params
	C.ernie_sampling_params_init_sized(&p, C.sizeof_ernie_sampling_params)
	return Sampling{
		Temperature: float32(p.temperature), TopK: int32(p.top_k), TopP: float32(p.top_p), MinP: float32(p.min_p),
		RepetitionPenalty: float32(p.repetition_penalty), PresencePenalty: float32(p.presence_penalty),
		FrequencyPenalty: float32(p.frequency_penalty), PenaltyWindow: int32(p.penalty_window), Seed: uint64(p.seed),
	}
}

// Reasoning: whether a thinking-format model reasons before answering.
type Reasoning int32

const (
	ReasoningAuto Reasoning = C.ERNIE_REASONING_AUTO
	ReasoningOff  Reasoning = C.ERNIE_REASONING_OFF // close <think> at once
)

// GenerateOptions of one generate/chat call; nil or the zero value means the
// library's defaults (greedy, 512 tokens).
type GenerateOptions struct {
	Sampling        *Sampling // nil = greedy
	MaxTokens       int32     // 0 = the default (512); < 0 = up to the context size
	StopStrings     []string
	StopTokens      []int32 // in addition to the model's end-of-turn tokens
	Logprobs        int32   // alternatives reported per token (0..20)
	Threads         int32   // 0 = the session's
	Reasoning       Reasoning
	ReasoningBudget int32  // reasoning tokens before </think> is forced (0 = unlimited)
	ResponseSchema  string // the answer must be JSON valid under this JSON Schema
	MaxToolRounds   int32  // automatic tool mode (0 = the default, 8)
}

// cGenerateParams builds the C params in arena memory, with the trampolines
// installed for the call's cgo.Handle.
func cGenerateParams(a *cArena, o *GenerateOptions, handle uintptr, withTools bool) (*C.ernie_generate_params, error) {
	if o == nil {
		o = &GenerateOptions{}
	}
	p := (*C.ernie_generate_params)(a.alloc(C.sizeof_ernie_generate_params))
	C.ernie_generate_params_init_sized(p, C.sizeof_ernie_generate_params)
	switch {
	case o.MaxTokens < 0:
		p.max_tokens = 0
	case o.MaxTokens > 0:
		p.max_tokens = C.int32_t(o.MaxTokens)
	}
	if o.MaxToolRounds > 0 {
		p.max_tool_rounds = C.int32_t(o.MaxToolRounds)
	}
	p.n_logprobs = C.int32_t(o.Logprobs)
	p.n_threads = C.int32_t(o.Threads)
	p.reasoning = C.int32_t(o.Reasoning)
	p.reasoning_budget = C.int32_t(o.ReasoningBudget)
	if s := o.Sampling; s != nil {
		sp := (*C.ernie_sampling_params)(a.alloc(C.sizeof_ernie_sampling_params))
		C.ernie_sampling_params_init_sized(sp, C.sizeof_ernie_sampling_params)
		sp.temperature, sp.top_k, sp.top_p, sp.min_p = C.float(s.Temperature), C.int32_t(s.TopK), C.float(s.TopP), C.float(s.MinP)
		sp.repetition_penalty = C.float(s.RepetitionPenalty)
		sp.presence_penalty, sp.frequency_penalty = C.float(s.PresencePenalty), C.float(s.FrequencyPenalty)
		sp.penalty_window, sp.seed = C.int32_t(s.PenaltyWindow), C.uint64_t(s.Seed)
		if n := len(s.LogitBias); n > 0 {
			tokens := unsafe.Slice((*C.int32_t)(a.alloc(uintptr(n)*4)), n)
			values := unsafe.Slice((*C.float)(a.alloc(uintptr(n)*4)), n)
			i := 0
			for t, v := range s.LogitBias {
				tokens[i], values[i] = C.int32_t(t), C.float(v)
				i++
			}
			sp.logit_bias_tokens, sp.logit_bias_values, sp.n_logit_bias = &tokens[0], &values[0], C.size_t(n)
		}
		p.sampling = sp
	}
	if n := len(o.StopStrings); n > 0 {
		ptrs := unsafe.Slice((**C.char)(a.alloc(uintptr(n)*unsafe.Sizeof((*C.char)(nil)))), n)
		for i, s := range o.StopStrings {
			c, err := a.str("stop string", s)
			if err != nil {
				return nil, err
			}
			ptrs[i] = c
		}
		p.stop_strings, p.n_stop_strings = &ptrs[0], C.size_t(n)
	}
	if n := len(o.StopTokens); n > 0 {
		toks := unsafe.Slice((*C.int32_t)(a.alloc(uintptr(n)*4)), n)
		for i, t := range o.StopTokens {
			toks[i] = C.int32_t(t)
		}
		p.stop_tokens, p.n_stop_tokens = &toks[0], C.size_t(n)
	}
	schema, err := a.strOpt("response schema", o.ResponseSchema)
	if err != nil {
		return nil, err
	}
	p.response_schema_json = schema
	with := C.int(0)
	if withTools {
		with = 1
	}
	C.ernie_go_generate_callbacks(p, C.uintptr_t(handle), with)
	return p, nil
}

// FinishReason says why a generation ended.
type FinishReason int32

const (
	FinishStopToken   FinishReason = C.ERNIE_FINISH_STOP_TOKEN   // an end-of-turn or stop token
	FinishStopString  FinishReason = C.ERNIE_FINISH_STOP_STRING  // a stop string (not in the text)
	FinishLength      FinishReason = C.ERNIE_FINISH_LENGTH       // MaxTokens reached
	FinishContextFull FinishReason = C.ERNIE_FINISH_CONTEXT_FULL // the session's context is full
	FinishCancelled   FinishReason = C.ERNIE_FINISH_CANCELLED    // callback, Cancel or context
	FinishError       FinishReason = C.ERNIE_FINISH_ERROR
	FinishToolCalls   FinishReason = C.ERNIE_FINISH_TOOL_CALLS // tool calls to run (Result.ToolCalls)
)

func (f FinishReason) String() string {
	switch f {
	case FinishStopToken:
		return "stop_token"
	case FinishStopString:
		return "stop_string"
	case FinishLength:
		return "length"
	case FinishContextFull:
		return "context_full"
	case FinishCancelled:
		return "cancelled"
	case FinishError:
		return "error"
	case FinishToolCalls:
		return "tool_calls"
	}
	return "unknown"
}

// Result of a generate/chat call, copied out of the session.
type Result struct {
	FinishReason     FinishReason
	PromptTokens     int32
	CachedTokens     int32 // prompt tokens reused from the KV cache
	GeneratedTokens  int32
	ReasoningTokens  int32
	Text             string
	Reasoning        string
	Tokens           []int32 // every sampled token, a final stop token included
	ToolCalls        []ToolCall
	InvalidToolCalls int32
	MessagesJSON     string // chat: JSON array of the messages this call added
}

func resultFromC(r *C.ernie_generate_result) *Result {
	out := &Result{
		FinishReason: FinishReason(r.finish_reason), PromptTokens: int32(r.n_prompt_tokens),
		CachedTokens: int32(r.n_cached_tokens), GeneratedTokens: int32(r.n_generated_tokens),
		ReasoningTokens: int32(r.n_reasoning_tokens), Text: goString(r.text), Reasoning: goString(r.reasoning),
		ToolCalls: toolCallsFromC(r.tool_calls, r.n_tool_calls), InvalidToolCalls: int32(r.n_invalid_tool_calls),
		MessagesJSON: goString(r.messages_json), Tokens: []int32{},
	}
	if r.tokens != nil && r.n_tokens > 0 {
		for _, t := range unsafe.Slice(r.tokens, int(r.n_tokens)) {
			out.Tokens = append(out.Tokens, int32(t))
		}
	}
	return out
}

func goString(p *C.char) string {
	if p == nil {
		return ""
	}
	return C.GoString(p)
}

// EventKind of a streamed event.
type EventKind int32

const (
	EventText      EventKind = C.ERNIE_EVENT_TEXT      // a piece of the answer
	EventReasoning EventKind = C.ERNIE_EVENT_REASONING // a piece of reasoning
	EventToolCall  EventKind = C.ERNIE_EVENT_TOOL_CALL // a complete, valid tool call
)

// TokenLogprob is one alternative token and its log-probability.
type TokenLogprob struct {
	Token   int32
	Logprob float32
}

// Event is one streamed piece of output (copied: safe to keep).
type Event struct {
	Kind        EventKind
	Text        string // never splits a UTF-8 character; may be empty
	Token       int32  // the token this event follows (-1 if none)
	Logprob     float32
	TopLogprobs []TokenLogprob
	ToolCall    *ToolCall // EventToolCall
}

func eventFromC(e *C.ernie_event) Event {
	ev := Event{Kind: EventKind(e._type), Token: int32(e.token), Logprob: float32(e.logprob)}
	if e.text != nil && e.text_len > 0 {
		ev.Text = C.GoStringN(e.text, C.int(e.text_len))
	}
	if e.top_logprobs != nil && e.n_top_logprobs > 0 {
		for _, t := range unsafe.Slice(e.top_logprobs, int(e.n_top_logprobs)) {
			ev.TopLogprobs = append(ev.TopLogprobs, TokenLogprob{Token: int32(t.token), Logprob: float32(t.logprob)})
		}
	}
	if e.tool_call != nil {
		c := toolCallFromC(e.tool_call)
		ev.ToolCall = &c
	}
	return ev
}
