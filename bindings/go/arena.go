package ernie

/*
#include <stdlib.h>
*/
import "C"

import "unsafe"

// cArena owns the C memory one call's arguments live in: C strings and
// structs that point to other C memory (cgo forbids handing C Go memory that
// holds Go pointers). free releases everything, so nothing leaks on any path.
type cArena struct {
	ptrs []unsafe.Pointer
}

func (a *cArena) alloc(size uintptr) unsafe.Pointer {
	if size == 0 {
		size = 1
	}
	p := C.calloc(1, C.size_t(size))
	if p == nil {
		panic("ernie: out of C memory")
	}
	a.ptrs = append(a.ptrs, p)
	return p
}

// str is a NUL-terminated copy of s; a NUL inside s is refused (C would cut it there).
func (a *cArena) str(what, s string) (*C.char, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, invalidArgument("%s contains a NUL byte", what)
		}
	}
	p := C.CString(s)
	a.ptrs = append(a.ptrs, unsafe.Pointer(p))
	return p, nil
}

// strOpt is str, with "" meaning NULL (the header's "optional").
func (a *cArena) strOpt(what, s string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return a.str(what, s)
}

func (a *cArena) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}
