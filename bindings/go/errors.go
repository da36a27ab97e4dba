package ernie

/*
#include "ernie.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
)

// Status is a C ernie_status code.
type Status int32

const (
	StatusOK              Status = C.ERNIE_OK
	StatusInvalidArgument Status = C.ERNIE_E_INVALID_ARGUMENT
	StatusIO              Status = C.ERNIE_E_IO
	StatusInvalidModel    Status = C.ERNIE_E_INVALID_MODEL
	StatusChecksum        Status = C.ERNIE_E_CHECKSUM
	StatusUnsupported     Status = C.ERNIE_E_UNSUPPORTED
	StatusOutOfMemory     Status = C.ERNIE_E_OUT_OF_MEMORY
	StatusCancelled       Status = C.ERNIE_E_CANCELLED
	StatusContextFull     Status = C.ERNIE_E_CONTEXT_FULL
	StatusBufferTooSmall  Status = C.ERNIE_E_BUFFER_TOO_SMALL
	StatusBackend         Status = C.ERNIE_E_BACKEND
	StatusInternal        Status = C.ERNIE_E_INTERNAL
)

// String is the library's name, e.g. "ERNIE_E_IO: input/output error".
func (s Status) String() string { return C.GoString(C.ernie_status_string(C.ernie_status(s))) }

// Error is a failed library call: its status and the library's reason
// (which names the argument, file, tensor or key at fault).
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("ernie: %s (%s)", e.Message, e.Status) }

// Is makes errors.Is(err, &ernie.Error{Status: s}) match by status.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Status == e.Status && t.Message == ""
}

var (
	// ErrClosed: the handle was closed (a second Close, or a call after Close).
	ErrClosed = errors.New("ernie: use of a closed handle")
	// ErrBusy: another call is running on this session (calls on one session
	// must not overlap; Cancel excepted).
	ErrBusy = errors.New("ernie: session is busy with another call")
	// ErrStop, returned by an event or progress callback, stops the work
	// without an error (the generation finishes with FinishCancelled).
	ErrStop = errors.New("ernie: stopped by callback")
	// ErrDefer, returned by a tool handler, ends the turn with the call
	// pending (FinishToolCalls) to be run elsewhere.
	ErrDefer = errors.New("ernie: tool call deferred")
	// ErrABIMismatch: the loaded libernie is not the ABI this package was
	// built for (CheckABI); the wrapped message names the first difference.
	ErrABIMismatch = errors.New("ernie: ABI mismatch")
)

// callC runs one fallible C call and turns its status into an error. The
// library's last-error message is per OS thread, and a goroutine may change
// threads between two cgo calls: the thread is held for both.
func callC(f func() C.ernie_status) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return check(f())
}

// check reads the last error: only on the thread that made the call.
func check(status C.ernie_status) error {
	if status == C.ERNIE_OK {
		return nil
	}
	msg := C.GoString(C.ernie_last_error())
	if msg == "" {
		msg = Status(status).String()
	}
	return &Error{Status: Status(status), Message: msg}
}

func invalidArgument(format string, args ...interface{}) error {
	return &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}
