// Package ernie runs Baidu's ERNIE 4.5 models on the CPU through libernie
// (include/ernie.h).
//
// A Model is immutable and safe for concurrent use; it is shared by any
// number of Sessions. A Session (one KV cache) runs one call at a time: a
// second concurrent call gets ErrBusy instead of corrupting it, and
// Session.Cancel may be called from any goroutine. Every handle has an
// explicit Close; a second Close, or any call after it, returns ErrClosed.
// Finalizers only free what a program forgot to close.
//
// Callbacks (streaming events, tools, progress) run on the calling
// goroutine's thread while the C call is in progress; a panic in one stops
// the C work and is re-raised after the C call has returned.
//
// Before its first call the package checks that the library's ABI version
// and struct layouts (ernie_abi_info) match the header it was compiled
// against (CheckABI).
package ernie
