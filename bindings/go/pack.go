package ernie

/*
#include "shims.h"
*/
import "C"

import "runtime/cgo"

// PackType is the dtype weight matrices are stored as.
type PackType int32

const (
	PackAuto PackType = C.ERNIE_TYPE_AUTO // keep every tensor's checkpoint dtype
	PackF32  PackType = C.ERNIE_TYPE_F32
	PackF16  PackType = C.ERNIE_TYPE_F16
	PackBF16 PackType = C.ERNIE_TYPE_BF16
	// Quantization recipes: a storage type per tensor role (docs/quantization.md).
	PackQ8 PackType = C.ERNIE_TYPE_Q8
	PackQ6 PackType = C.ERNIE_TYPE_Q6
	PackQ4 PackType = C.ERNIE_TYPE_Q4
	PackQ2 PackType = C.ERNIE_TYPE_Q2
)

// PackOptions: zero values mean the defaults.
type PackOptions struct {
	Type    PackType
	Threads int32 // 0 = physical cores
	// Progress in [0, 1]; a non-nil error cancels and nothing is written.
	Progress func(progress float32) error
}

// Pack converts the Hugging Face checkpoint directory hfDir into one packed
// file at outPath, atomically: on failure outPath is left as it was. opts may be nil.
func Pack(hfDir, outPath string, opts *PackOptions) error {
	if err := CheckABI(); err != nil {
		return err
	}
	if opts == nil {
		opts = &PackOptions{}
	}
	var a cArena
	defer a.free()
	dir, err := a.str("checkpoint directory", hfDir)
	if err != nil {
		return err
	}
	out, err := a.str("output path", outPath)
	if err != nil {
		return err
	}
	p := (*C.ernie_pack_params)(a.alloc(C.sizeof_ernie_pack_params))
	C.ernie_pack_params_init_sized(p, C.sizeof_ernie_pack_params)
	p._type, p.n_threads = C.int32_t(opts.Type), C.int32_t(opts.Threads)
	var progress *progressState
	if opts.Progress != nil {
		progress = &progressState{fn: opts.Progress}
		h := cgo.NewHandle(progress)
		defer h.Delete()
		C.ernie_go_pack_progress(p, C.uintptr_t(h))
	}
	err = callC(func() C.ernie_status { return C.ernie_pack(dir, out, p) })
	if progress != nil {
		if perr := progress.finish(); perr != nil && err != nil {
			return perr
		}
	}
	return err
}
