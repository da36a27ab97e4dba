package ernie

/*
#include "shims.h"
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// SessionOptions: zero values mean the library's defaults.
type SessionOptions struct {
	Context int32 // context length in tokens; 0 = min(model max, 4096)
	Batch   int32 // max tokens per forward pass; 0 = 512
	Threads int32 // 0 = the model's thread count
	KVType  KVType
}

// KVType is how the KV cache stores keys and values.
type KVType int32

const (
	KVAuto KVType = C.ERNIE_KV_AUTO // f32 for float-weight models, f16 for quantized ones
	KVF32  KVType = C.ERNIE_KV_F32
	KVF16  KVType = C.ERNIE_KV_F16 // half the memory; ~5e-4 relative rounding
)

// Session is one conversation's state (KV cache, sampler, worker threads).
// It runs one call at a time: a call made while another runs (from another
// goroutine, or from inside a callback) returns ErrBusy. Cancel is the
// exception and may be called from anywhere.
type Session struct {
	callMu sync.Mutex   // held (TryLock) by each call and by Close
	freeMu sync.RWMutex // Cancel holds it shared, Close exclusively
	ptr    *C.ernie_session
	log    *logSink
}

// NewSession creates a session over the model. opts may be nil. The session
// stays usable after the model is closed.
func (m *Model) NewSession(opts *SessionOptions) (*Session, error) {
	ptr, err := m.use()
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	if opts == nil {
		opts = &SessionOptions{}
	}
	var p C.ernie_session_params
	C.ernie_session_params_init_sized(&p, C.sizeof_ernie_session_params)
	p.n_ctx, p.n_threads, p.kv_type = C.int32_t(opts.Context), C.int32_t(opts.Threads), C.int32_t(opts.KVType)
	if opts.Batch > 0 {
		p.n_batch = C.int32_t(opts.Batch)
	}
	var sp *C.ernie_session
	if err := callC(func() C.ernie_status { return C.ernie_session_create(ptr, &p, &sp) }); err != nil {
		return nil, err
	}
	m.log.retain()
	s := &Session{ptr: sp, log: m.log}
	runtime.SetFinalizer(s, (*Session).Close)
	return s, nil
}

// begin claims the session for one call; the caller defers s.callMu.Unlock.
func (s *Session) begin() (*C.ernie_session, error) {
	if !s.callMu.TryLock() {
		return nil, ErrBusy
	}
	if s.ptr == nil {
		s.callMu.Unlock()
		return nil, ErrClosed
	}
	return s.ptr, nil
}

// Close releases the session: ErrClosed if it already was, ErrBusy while a
// call runs on it (cancel that call first).
func (s *Session) Close() error {
	if !s.callMu.TryLock() {
		return ErrBusy
	}
	defer s.callMu.Unlock()
	s.freeMu.Lock()
	ptr := s.ptr
	s.ptr = nil
	s.freeMu.Unlock()
	if ptr == nil {
		return ErrClosed
	}
	C.ernie_session_free(ptr)
	s.log.release()
	runtime.SetFinalizer(s, nil)
	return nil
}

// Cancel stops the generation running on the session after the current
// token (FinishCancelled). Safe from any goroutine; a no-op when nothing
// runs or the session is closed.
func (s *Session) Cancel() {
	s.freeMu.RLock()
	defer s.freeMu.RUnlock()
	if s.ptr != nil {
		C.ernie_session_cancel(s.ptr)
	}
}

// Eval appends tokens to the context and runs the model over them.
// allLogits keeps every token's logits, not only the last one's.
func (s *Session) Eval(tokens []int32, allLogits bool) error {
	ptr, err := s.begin()
	if err != nil {
		return err
	}
	defer s.callMu.Unlock()
	var flags C.uint32_t
	if allLogits {
		flags = C.ERNIE_EVAL_ALL_LOGITS
	}
	return callC(func() C.ernie_status {
		return C.ernie_session_eval(ptr, int32Ptr(tokens), C.size_t(len(tokens)), flags)
	})
}

// Logits returns a copy of the logits of token index of the last Eval (-1: its last).
func (s *Session) Logits(index int64) ([]float32, error) {
	ptr, err := s.begin()
	if err != nil {
		return nil, err
	}
	defer s.callMu.Unlock()
	var p *C.float
	var n C.size_t
	if err := callC(func() C.ernie_status { return C.ernie_session_logits(ptr, C.int64_t(index), &p, &n) }); err != nil {
		return nil, err
	}
	out := make([]float32, int(n))
	copy(out, unsafe.Slice((*float32)(unsafe.Pointer(p)), int(n)))
	return out, nil
}

// Tokens returns a copy of the context's tokens.
func (s *Session) Tokens() ([]int32, error) {
	ptr, err := s.begin()
	if err != nil {
		return nil, err
	}
	defer s.callMu.Unlock()
	var p *C.int32_t
	var n C.size_t
	if err := callC(func() C.ernie_status { return C.ernie_session_tokens(ptr, &p, &n) }); err != nil {
		return nil, err
	}
	out := make([]int32, int(n))
	if n > 0 {
		copy(out, unsafe.Slice((*int32)(unsafe.Pointer(p)), int(n)))
	}
	return out, nil
}

// NPast is the number of tokens in the context.
func (s *Session) NPast() (int64, error) {
	ptr, err := s.begin()
	if err != nil {
		return 0, err
	}
	defer s.callMu.Unlock()
	var n C.int64_t
	err = callC(func() C.ernie_status { return C.ernie_session_n_past(ptr, &n) })
	return int64(n), err
}

// Truncate forgets every context token from position nKeep on.
func (s *Session) Truncate(nKeep int64) error {
	ptr, err := s.begin()
	if err != nil {
		return err
	}
	defer s.callMu.Unlock()
	return callC(func() C.ernie_status { return C.ernie_session_truncate(ptr, C.int64_t(nKeep)) })
}

// Reset forgets the whole context.
func (s *Session) Reset() error {
	ptr, err := s.begin()
	if err != nil {
		return err
	}
	defer s.callMu.Unlock()
	return callC(func() C.ernie_status { return C.ernie_session_reset(ptr) })
}

// Save serializes the context (tokens and KV cache).
func (s *Session) Save() ([]byte, error) {
	ptr, err := s.begin()
	if err != nil {
		return nil, err
	}
	defer s.callMu.Unlock()
	var blob unsafe.Pointer
	var n C.size_t
	if err := callC(func() C.ernie_status { return C.ernie_session_save(ptr, &blob, &n) }); err != nil {
		return nil, err
	}
	defer C.ernie_free(blob)
	return C.GoBytes(blob, C.int(n)), nil
}

// Restore replaces the context with a saved one; a blob from another model,
// damaged, or too large is refused and the session is unchanged.
func (s *Session) Restore(blob []byte) error {
	ptr, err := s.begin()
	if err != nil {
		return err
	}
	defer s.callMu.Unlock()
	var p unsafe.Pointer
	if len(blob) > 0 {
		p = unsafe.Pointer(&blob[0])
	}
	return callC(func() C.ernie_status { return C.ernie_session_restore(ptr, p, C.size_t(len(blob))) })
}

// Generate continues prompt (the session's whole context; the KV cache is
// reused for the common prefix). onEvent (may be nil) receives the streamed
// output on this goroutine; returning ErrStop stops quietly, another error
// stops and is returned. When ctx ends, generation stops (FinishCancelled)
// and ctx.Err() is returned with the partial result.
func (s *Session) Generate(ctx context.Context, prompt []int32, opts *GenerateOptions, onEvent func(Event) error) (*Result, error) {
	return s.run(ctx, &callState{ctx: ctx, onEvent: onEvent}, opts, func(ptr *C.ernie_session, p *C.ernie_generate_params, r *C.ernie_generate_result) C.ernie_status {
		return C.ernie_session_generate(ptr, int32Ptr(prompt), C.size_t(len(prompt)), p, r)
	}, nil)
}

// Chat renders messages (the whole conversation) in the model's chat format
// and generates the assistant's answer, as Generate does. Tools with a
// Handler in chat are run automatically; otherwise calls end the turn
// (FinishToolCalls, Result.ToolCalls). chat and onEvent may be nil.
func (s *Session) Chat(ctx context.Context, messages []Message, chat *ChatOptions, opts *GenerateOptions, onEvent func(Event) error) (*Result, error) {
	st := &callState{ctx: ctx, onEvent: onEvent}
	if chat != nil {
		st.tools = chat.Tools
	}
	var msgs *C.ernie_message
	var cp *C.ernie_chat_params
	return s.run(ctx, st, opts, func(ptr *C.ernie_session, p *C.ernie_generate_params, r *C.ernie_generate_result) C.ernie_status {
		return C.ernie_session_chat(ptr, msgs, C.size_t(len(messages)), cp, p, r)
	}, func(a *cArena) (err error) {
		msgs, cp, err = cChat(a, messages, chat)
		return err
	})
}

// ChatJSON is Chat with the conversation as one JSON document
// ({"messages": [...], "tools": [...], ...}); tool calls are reported.
func (s *Session) ChatJSON(ctx context.Context, conversationJSON, format string, opts *GenerateOptions, onEvent func(Event) error) (*Result, error) {
	var conv, cFormat *C.char
	return s.run(ctx, &callState{ctx: ctx, onEvent: onEvent}, opts, func(ptr *C.ernie_session, p *C.ernie_generate_params, r *C.ernie_generate_result) C.ernie_status {
		return C.ernie_session_chat_json(ptr, conv, cFormat, p, r)
	}, func(a *cArena) (err error) {
		if conv, err = a.str("conversation JSON", conversationJSON); err != nil {
			return err
		}
		cFormat, err = a.strOpt("format", format)
		return err
	})
}

// run is one generate/chat call: claim the session, build the C arguments,
// route callbacks through a cgo.Handle, cancel when ctx ends, copy the result.
func (s *Session) run(ctx context.Context, st *callState, opts *GenerateOptions,
	call func(*C.ernie_session, *C.ernie_generate_params, *C.ernie_generate_result) C.ernie_status,
	prepare func(*cArena) error) (*Result, error) {
	if ctx == nil {
		ctx = context.Background()
		st.ctx = ctx
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ptr, err := s.begin()
	if err != nil {
		return nil, err
	}
	defer s.callMu.Unlock()
	var a cArena
	defer a.free()
	if prepare != nil {
		if err := prepare(&a); err != nil {
			return nil, err
		}
	}
	handle := cgo.NewHandle(st)
	defer handle.Delete()
	params, err := cGenerateParams(&a, opts, uintptr(handle), hasHandlers(st.tools))
	if err != nil {
		return nil, err
	}
	result := (*C.ernie_generate_result)(a.alloc(C.sizeof_ernie_generate_result))
	result.struct_size = C.sizeof_ernie_generate_result

	// ctx may end while C runs: a watcher cancels; it is gone before we return.
	if ctx.Done() != nil {
		stop, watcherDone := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(watcherDone)
			select {
			case <-ctx.Done():
				s.Cancel()
			case <-stop:
			}
		}()
		defer func() { close(stop); <-watcherDone }()
	}
	err = callC(func() C.ernie_status { return call(ptr, params, result) })
	if cbErr := st.finish(); cbErr != nil { // re-raises a callback's panic
		return resultOrNil(err, result), cbErr
	}
	if err != nil {
		return nil, err
	}
	out := resultFromC(result)
	if ctxErr := ctx.Err(); ctxErr != nil && out.FinishReason == FinishCancelled {
		return out, ctxErr
	}
	return out, nil
}

func resultOrNil(err error, r *C.ernie_generate_result) *Result {
	if err != nil {
		return nil
	}
	return resultFromC(r)
}

func hasHandlers(tools []Tool) bool {
	for _, t := range tools {
		if t.Handler != nil {
			return true
		}
	}
	return false
}

func int32Ptr(v []int32) *C.int32_t {
	if len(v) == 0 {
		return nil
	}
	return (*C.int32_t)(unsafe.Pointer(&v[0]))
}
