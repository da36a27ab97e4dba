package ernie

// The functions C calls back. Each finds its Go state through the
// cgo.Handle value carried in user_data, recovers any panic (which must not
// unwind through C frames), tells the library to stop, and keeps the panic
// for the caller to re-raise once the C call has returned.

/*
#include "ernie.h"
*/
import "C"

import (
	"context"
	"errors"
	"runtime/cgo"
	"unsafe"
)

// callState is what one generate/chat call's callbacks share.
type callState struct {
	ctx      context.Context
	onEvent  func(Event) error
	tools    []Tool
	err      error       // first error a callback returned (ErrStop excepted)
	panicVal interface{} // first panic, re-raised by finish
	panicked bool
}

// finish re-raises a callback's panic, then reports its error.
func (st *callState) finish() error {
	if st.panicked {
		panic(st.panicVal)
	}
	return st.err
}

func (st *callState) stopped() bool { return st.panicked || st.err != nil }

func (st *callState) recoverPanic() {
	if r := recover(); r != nil {
		st.panicVal, st.panicked = r, true
	}
}

//export ernieGoEvent
func ernieGoEvent(userData unsafe.Pointer, event *C.ernie_event) (stop C.int32_t) {
	st := cgo.Handle(uintptr(userData)).Value().(*callState)
	if st.stopped() || st.ctx.Err() != nil {
		return 1
	}
	if st.onEvent == nil {
		return 0
	}
	stop = 1 // unless the callback returns normally
	defer st.recoverPanic()
	if err := st.onEvent(eventFromC(event)); err != nil {
		if !errors.Is(err, ErrStop) {
			st.err = err
		}
		return 1
	}
	return 0
}

//export ernieGoTool
func ernieGoTool(userData unsafe.Pointer, call *C.ernie_tool_call, output *C.ernie_tool_output) (result C.int32_t) {
	st := cgo.Handle(uintptr(userData)).Value().(*callState)
	if st.stopped() || st.ctx.Err() != nil {
		return C.ERNIE_TOOL_DEFER
	}
	c := toolCallFromC(call)
	var handler func(ToolCall) (string, error)
	for i := range st.tools {
		if st.tools[i].Name == c.Name {
			handler = st.tools[i].Handler
		}
	}
	if handler == nil {
		return C.ERNIE_TOOL_DEFER
	}
	result = C.ERNIE_TOOL_DEFER // unless the handler returns a result
	defer st.recoverPanic()
	text, err := handler(c)
	if err != nil {
		if !errors.Is(err, ErrDefer) {
			st.err = err
		}
		return C.ERNIE_TOOL_DEFER
	}
	buf := []byte(text)
	var p *C.char
	if len(buf) > 0 {
		p = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	// Same thread as the generating call: the last error is this call's.
	if err := check(C.ernie_tool_output_set(output, p, C.size_t(len(buf)))); err != nil {
		st.err = err
		return C.ERNIE_TOOL_DEFER
	}
	return C.ERNIE_TOOL_RESULT
}

// progressState is a load/pack call's progress callback.
type progressState struct {
	fn       func(float32) error
	err      error
	panicVal interface{}
	panicked bool
}

func (ps *progressState) finish() error {
	if ps.panicked {
		panic(ps.panicVal)
	}
	return ps.err
}

//export ernieGoProgress
func ernieGoProgress(userData unsafe.Pointer, progress C.float) (stop C.int32_t) {
	ps := cgo.Handle(uintptr(userData)).Value().(*progressState)
	if ps.panicked || ps.err != nil {
		return 1
	}
	stop = 1
	defer func() {
		if r := recover(); r != nil {
			ps.panicVal, ps.panicked = r, true
		}
	}()
	if err := ps.fn(float32(progress)); err != nil {
		if !errors.Is(err, ErrStop) {
			ps.err = err
		}
		return 1
	}
	return 0
}

//export ernieGoLog
func ernieGoLog(userData unsafe.Pointer, level C.int32_t, message *C.char) {
	sink := cgo.Handle(uintptr(userData)).Value().(*logSink)
	msg := C.GoString(message)
	// Any library thread may log: a panic here has no caller to go back to.
	defer func() { _ = recover() }()
	sink.fn(LogLevel(level), msg)
}
