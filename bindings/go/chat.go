package ernie

/*
#include "shims.h"
*/
import "C"

import "unsafe"

// ToolCall is a tool call made by the assistant.
type ToolCall struct {
	ID            string // optional in messages
	Name          string
	ArgumentsJSON string // a JSON object, valid under the tool's schema when generated
}

// Message is one message of a conversation.
type Message struct {
	Role       string // "system", "user", "assistant" or "tool"
	Content    string
	Reasoning  string // optional: an assistant's earlier reasoning
	ToolCalls  []ToolCall
	ToolCallID string // for a "tool" message: the call it answers
}

// Tool is a tool the model may call. With a Handler the call is run during
// generation (automatic mode) and its result appended; a handler returning
// ErrDefer, or a tool without one, ends the turn with the call pending. Any
// other handler error stops generation and is returned by Chat.
type Tool struct {
	Name           string
	Description    string
	ParametersJSON string // JSON Schema of the arguments ("" = any object)
	Handler        func(call ToolCall) (string, error)
}

// ToolChoice says whether and which tool the model must call.
type ToolChoice int32

const (
	ToolChoiceAuto     ToolChoice = C.ERNIE_TOOL_CHOICE_AUTO
	ToolChoiceNone     ToolChoice = C.ERNIE_TOOL_CHOICE_NONE
	ToolChoiceRequired ToolChoice = C.ERNIE_TOOL_CHOICE_REQUIRED
	ToolChoiceNamed    ToolChoice = C.ERNIE_TOOL_CHOICE_NAMED // ToolChoiceName
)

// ChatOptions: how a conversation is rendered and which tools it offers;
// nil or the zero value means the defaults.
type ChatOptions struct {
	Format             string // "" = from the model's chat template; "pt"; "thinking"
	Tools              []Tool
	ToolChoice         ToolChoice
	ToolChoiceName     string
	SingleToolCall     bool // stop after one call per turn
	SystemSettings     string
	NoGenerationPrompt bool // render without the generation prompt
}

// cToolCalls copies calls into an arena array (nil when empty).
func cToolCalls(a *cArena, calls []ToolCall) (*C.ernie_tool_call, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	arr := unsafe.Slice((*C.ernie_tool_call)(a.alloc(uintptr(len(calls))*C.sizeof_ernie_tool_call)), len(calls))
	for i, c := range calls {
		var err error
		arr[i].struct_size = C.sizeof_ernie_tool_call
		if arr[i].id, err = a.strOpt("tool call id", c.ID); err != nil {
			return nil, err
		}
		if arr[i].name, err = a.str("tool call name", c.Name); err != nil {
			return nil, err
		}
		if arr[i].arguments_json, err = a.str("tool call arguments", c.ArgumentsJSON); err != nil {
			return nil, err
		}
	}
	return &arr[0], nil
}

// cChat builds the messages and chat params in arena memory.
func cChat(a *cArena, messages []Message, o *ChatOptions) (*C.ernie_message, *C.ernie_chat_params, error) {
	var msgs *C.ernie_message
	if len(messages) > 0 {
		arr := unsafe.Slice((*C.ernie_message)(a.alloc(uintptr(len(messages))*C.sizeof_ernie_message)), len(messages))
		for i, m := range messages {
			var err error
			arr[i].struct_size = C.sizeof_ernie_message
			if arr[i].role, err = a.str("message role", m.Role); err != nil {
				return nil, nil, err
			}
			if m.Content != "" || len(m.ToolCalls) == 0 {
				if arr[i].content, err = a.str("message content", m.Content); err != nil {
					return nil, nil, err
				}
			}
			if arr[i].reasoning, err = a.strOpt("message reasoning", m.Reasoning); err != nil {
				return nil, nil, err
			}
			if arr[i].tool_calls, err = cToolCalls(a, m.ToolCalls); err != nil {
				return nil, nil, err
			}
			arr[i].n_tool_calls = C.size_t(len(m.ToolCalls))
			if arr[i].tool_call_id, err = a.strOpt("tool_call_id", m.ToolCallID); err != nil {
				return nil, nil, err
			}
		}
		msgs = &arr[0]
	}
	p := (*C.ernie_chat_params)(a.alloc(C.sizeof_ernie_chat_params))
	C.ernie_chat_params_init_sized(p, C.sizeof_ernie_chat_params)
	if o == nil {
		return msgs, p, nil
	}
	var err error
	if p.format, err = a.strOpt("format", o.Format); err != nil {
		return nil, nil, err
	}
	if p.system_settings, err = a.strOpt("system settings", o.SystemSettings); err != nil {
		return nil, nil, err
	}
	if o.NoGenerationPrompt {
		p.add_generation_prompt = 0
	}
	if o.SingleToolCall {
		p.parallel_tool_calls = 0
	}
	p.tool_choice = C.int32_t(o.ToolChoice)
	if p.tool_choice_name, err = a.strOpt("tool choice name", o.ToolChoiceName); err != nil {
		return nil, nil, err
	}
	if n := len(o.Tools); n > 0 {
		arr := unsafe.Slice((*C.ernie_tool)(a.alloc(uintptr(n)*C.sizeof_ernie_tool)), n)
		for i, t := range o.Tools {
			arr[i].struct_size = C.sizeof_ernie_tool
			if arr[i].name, err = a.str("tool name", t.Name); err != nil {
				return nil, nil, err
			}
			if arr[i].description, err = a.strOpt("tool description", t.Description); err != nil {
				return nil, nil, err
			}
			if arr[i].parameters_json, err = a.strOpt("tool parameters", t.ParametersJSON); err != nil {
				return nil, nil, err
			}
		}
		p.tools, p.n_tools = &arr[0], C.size_t(n)
	}
	return msgs, p, nil
}

func toolCallFromC(c *C.ernie_tool_call) ToolCall {
	return ToolCall{ID: goString(c.id), Name: goString(c.name), ArgumentsJSON: goString(c.arguments_json)}
}

// toolCallsFromC copies an array the library wrote, stepping by the first
// element's struct_size (the header's rule).
func toolCallsFromC(p *C.ernie_tool_call, n C.size_t) []ToolCall {
	if p == nil || n == 0 {
		return nil
	}
	stride := uintptr(p.struct_size)
	if stride < C.sizeof_ernie_tool_call {
		stride = C.sizeof_ernie_tool_call
	}
	out := make([]ToolCall, 0, int(n))
	for i := 0; i < int(n); i++ {
		out = append(out, toolCallFromC((*C.ernie_tool_call)(unsafe.Add(unsafe.Pointer(p), uintptr(i)*stride))))
	}
	return out
}

// takeLibraryText copies text the library allocated and frees it.
func takeLibraryText(p *C.char, n C.size_t) string {
	if p == nil {
		return ""
	}
	s := C.GoStringN(p, C.int(n))
	C.ernie_free(unsafe.Pointer(p))
	return s
}

// ChatRender returns the prompt text messages render to, exactly as the
// model's chat template does. opts may be nil.
func (m *Model) ChatRender(messages []Message, opts *ChatOptions) (string, error) {
	ptr, err := m.use()
	if err != nil {
		return "", err
	}
	defer m.mu.RUnlock()
	var a cArena
	defer a.free()
	msgs, params, err := cChat(&a, messages, opts)
	if err != nil {
		return "", err
	}
	var text *C.char
	var n C.size_t
	err = callC(func() C.ernie_status {
		return C.ernie_chat_render(ptr, msgs, C.size_t(len(messages)), params, &text, &n)
	})
	if err != nil {
		return "", err
	}
	return takeLibraryText(text, n), nil
}

// ChatRenderJSON renders a conversation given as one JSON document
// ({"messages": [...], "tools": [...], ...}); format "" = from the template.
func (m *Model) ChatRenderJSON(conversationJSON, format string) (string, error) {
	ptr, err := m.use()
	if err != nil {
		return "", err
	}
	defer m.mu.RUnlock()
	var a cArena
	defer a.free()
	conv, err := a.str("conversation JSON", conversationJSON)
	if err != nil {
		return "", err
	}
	cFormat, err := a.strOpt("format", format)
	if err != nil {
		return "", err
	}
	var text *C.char
	var n C.size_t
	if err := callC(func() C.ernie_status { return C.ernie_chat_render_json(ptr, conv, cFormat, &text, &n) }); err != nil {
		return "", err
	}
	return takeLibraryText(text, n), nil
}

// ChatParse splits model output into reasoning, answer and tool calls, as
// JSON: {"reasoning_content", "content", "tool_calls", "invalid_tool_calls"}.
func (m *Model) ChatParse(output, format string) (string, error) {
	ptr, err := m.use()
	if err != nil {
		return "", err
	}
	defer m.mu.RUnlock()
	var a cArena
	defer a.free()
	cFormat, err := a.strOpt("format", format)
	if err != nil {
		return "", err
	}
	buf := []byte(output)
	var cOut *C.char
	if len(buf) > 0 {
		cOut = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	var json *C.char
	var n C.size_t
	err = callC(func() C.ernie_status {
		return C.ernie_chat_parse(ptr, cFormat, cOut, C.size_t(len(buf)), &json, &n)
	})
	if err != nil {
		return "", err
	}
	return takeLibraryText(json, n), nil
}
