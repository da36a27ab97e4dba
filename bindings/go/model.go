package ernie

/*
#include "shims.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"unsafe"
)

// LogLevel of a library log message.
type LogLevel int32

const (
	LogError LogLevel = C.ERNIE_LOG_ERROR
	LogWarn  LogLevel = C.ERNIE_LOG_WARN
	LogInfo  LogLevel = C.ERNIE_LOG_INFO
	LogDebug LogLevel = C.ERNIE_LOG_DEBUG
)

// ModelOptions: zero values mean the library's defaults.
type ModelOptions struct {
	Threads int32  // compute threads; 0 = physical cores
	NoMmap  bool   // read the file into memory instead of mapping it
	Backend string // "" or "auto", "cpu"
	// Progress in [0, 1], on the loading goroutine; a non-nil error cancels
	// (ErrStop: report the library's cancellation).
	Progress func(progress float32) error
	// Log is called from any of the library's threads while the model or
	// one of its sessions is open. LogLevel is the highest level passed
	// (0 = LogWarn).
	Log      func(level LogLevel, message string)
	LogLevel LogLevel
	// Resource limits (docs/security.md); 0 = none. Going past one fails
	// with StatusOutOfMemory.
	MaxFileBytes        uint64 // largest model file accepted
	MaxContext          int32  // largest session context (also caps the default)
	SessionMemoryBudget uint64 // bytes all sessions of the model hold together
}

// logSink keeps a log function reachable from C for as long as the C model
// may call it: the model and each of its sessions hold a reference.
type logSink struct {
	fn     func(LogLevel, string)
	handle cgo.Handle
	refs   int32
}

func newLogSink(fn func(LogLevel, string)) *logSink {
	s := &logSink{fn: fn, refs: 1}
	s.handle = cgo.NewHandle(s)
	return s
}

func (s *logSink) retain() {
	if s != nil {
		atomic.AddInt32(&s.refs, 1)
	}
}

func (s *logSink) release() {
	if s != nil && atomic.AddInt32(&s.refs, -1) == 0 {
		s.handle.Delete()
	}
}

// Model is a loaded packed model file. It is safe for concurrent use.
type Model struct {
	mu  sync.RWMutex // calls hold it shared; Close exclusively
	ptr *C.ernie_model
	log *logSink
}

// Load opens a packed model file (made by Pack or `ernie pack`). opts may be nil.
func Load(path string, opts *ModelOptions) (*Model, error) {
	if err := CheckABI(); err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ModelOptions{}
	}
	var a cArena
	defer a.free()
	cpath, err := a.str("model path", path)
	if err != nil {
		return nil, err
	}
	backend, err := a.strOpt("backend", opts.Backend)
	if err != nil {
		return nil, err
	}
	p := (*C.ernie_model_params)(a.alloc(C.sizeof_ernie_model_params))
	C.ernie_model_params_init_sized(p, C.sizeof_ernie_model_params)
	p.n_threads = C.int32_t(opts.Threads)
	if opts.NoMmap {
		p.use_mmap = 0
	}
	p.backend = backend
	p.max_file_bytes = C.uint64_t(opts.MaxFileBytes)
	p.max_context = C.int32_t(opts.MaxContext)
	p.session_memory_budget = C.uint64_t(opts.SessionMemoryBudget)
	if opts.LogLevel != 0 {
		p.log_level = C.int32_t(opts.LogLevel)
	}
	var progress *progressState
	var progressHandle, logHandle cgo.Handle
	if opts.Progress != nil {
		progress = &progressState{fn: opts.Progress}
		progressHandle = cgo.NewHandle(progress)
		defer progressHandle.Delete()
	}
	var sink *logSink
	if opts.Log != nil {
		sink = newLogSink(opts.Log)
		logHandle = sink.handle
	}
	C.ernie_go_model_callbacks(p, C.uintptr_t(progressHandle), C.uintptr_t(logHandle))
	var ptr *C.ernie_model
	err = callC(func() C.ernie_status { return C.ernie_model_load(cpath, p, &ptr) })
	if err != nil {
		sink.release() // no C model holds it
	}
	if progress != nil {
		if perr := progress.finish(); perr != nil && err != nil { // re-raises a panic
			err = perr
		}
	}
	if err != nil {
		return nil, err
	}
	m := &Model{ptr: ptr, log: sink}
	runtime.SetFinalizer(m, (*Model).Close)
	return m, nil
}

// Close releases the model. Sessions opened from it stay usable. A second
// Close returns ErrClosed.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr == nil {
		return ErrClosed
	}
	C.ernie_model_free(m.ptr)
	m.ptr = nil
	m.log.release()
	runtime.SetFinalizer(m, nil)
	return nil
}

// use holds the model open for one call; the caller defers m.mu.RUnlock.
func (m *Model) use() (*C.ernie_model, error) {
	m.mu.RLock()
	if m.ptr == nil {
		m.mu.RUnlock()
		return nil, ErrClosed
	}
	return m.ptr, nil
}

// ModelInfo describes a loaded model's architecture and sizes.
type ModelInfo struct {
	Arch                                  int32 // ArchMoE or ArchDense
	Layers, HiddenSize, IntermediateSize  int32
	MoEIntermediateSize                   int32
	Heads, KVHeads, HeadDim               int32
	Experts, ExpertsUsed, SharedExperts   int32
	MoELayers                             int32
	VocabSize, TokenizerVocab, MaxContext int32
	BOS, EOS, PAD                         int32
	TiedEmbeddings                        bool
	RopeTheta, RMSNormEps                 float32
	Params, WeightBytes, KVBytesPerToken  uint64
	FileBytes                             uint64
	Tensors                               int32
}

const (
	ArchMoE   = C.ERNIE_ARCH_MOE
	ArchDense = C.ERNIE_ARCH_DENSE
)

// Info returns the model's configuration.
func (m *Model) Info() (ModelInfo, error) {
	ptr, err := m.use()
	if err != nil {
		return ModelInfo{}, err
	}
	defer m.mu.RUnlock()
	var i C.ernie_model_info
	i.struct_size = C.sizeof_ernie_model_info
	if err := callC(func() C.ernie_status { return C.ernie_model_get_info(ptr, &i) }); err != nil {
		return ModelInfo{}, err
	}
	return ModelInfo{
		Arch: int32(i.arch), Layers: int32(i.n_layers), HiddenSize: int32(i.hidden_size),
		IntermediateSize: int32(i.intermediate_size), MoEIntermediateSize: int32(i.moe_intermediate_size),
		Heads: int32(i.n_heads), KVHeads: int32(i.n_kv_heads), HeadDim: int32(i.head_dim),
		Experts: int32(i.n_experts), ExpertsUsed: int32(i.n_experts_used), SharedExperts: int32(i.n_shared_experts),
		MoELayers: int32(i.n_moe_layers), VocabSize: int32(i.vocab_size), TokenizerVocab: int32(i.n_tokenizer_vocab),
		MaxContext: int32(i.max_context), BOS: int32(i.bos_id), EOS: int32(i.eos_id), PAD: int32(i.pad_id),
		TiedEmbeddings: i.tied_embeddings != 0, RopeTheta: float32(i.rope_theta), RMSNormEps: float32(i.rms_norm_eps),
		Params: uint64(i.n_params), WeightBytes: uint64(i.weight_bytes), KVBytesPerToken: uint64(i.kv_bytes_per_token),
		FileBytes: uint64(i.file_bytes), Tensors: int32(i.n_tensors),
	}, nil
}

// Metadata returns the packed file's metadata JSON document.
func (m *Model) Metadata() (string, error) {
	ptr, err := m.use()
	if err != nil {
		return "", err
	}
	defer m.mu.RUnlock()
	var text *C.char
	if err := callC(func() C.ernie_status { return C.ernie_model_metadata(ptr, &text) }); err != nil {
		return "", err
	}
	return C.GoString(text), nil
}

// Verify checks every tensor's checksum (StatusChecksum names the first bad one).
func (m *Model) Verify() error {
	ptr, err := m.use()
	if err != nil {
		return err
	}
	defer m.mu.RUnlock()
	return callC(func() C.ernie_status { return C.ernie_model_verify(ptr, nil, nil) })
}

// SessionBytes is the memory a session of nCtx tokens needs beyond the weights.
func (m *Model) SessionBytes(nCtx, nBatch int32) (uint64, error) {
	ptr, err := m.use()
	if err != nil {
		return 0, err
	}
	defer m.mu.RUnlock()
	var n C.uint64_t
	err = callC(func() C.ernie_status { return C.ernie_model_session_bytes(ptr, C.int32_t(nCtx), C.int32_t(nBatch), &n) })
	return uint64(n), err
}

// Tokenize returns the token ids of text (no BOS). parseSpecial turns
// special pieces written in the text into control tokens: use it only for
// text the application itself wrote.
func (m *Model) Tokenize(text string, parseSpecial bool) ([]int32, error) {
	ptr, err := m.use()
	if err != nil {
		return nil, err
	}
	defer m.mu.RUnlock()
	var flags C.uint32_t
	if parseSpecial {
		flags = C.ERNIE_TOKENIZE_PARSE_SPECIAL
	}
	buf := []byte(text)
	var cText *C.char
	if len(buf) > 0 {
		cText = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	var ids []int32
	for {
		var n C.size_t
		var out *C.int32_t
		if len(ids) > 0 {
			out = (*C.int32_t)(unsafe.Pointer(&ids[0]))
		}
		err := callC(func() C.ernie_status {
			return C.ernie_tokenize(ptr, cText, C.size_t(len(buf)), flags, out, C.size_t(len(ids)), &n)
		})
		if e, ok := err.(*Error); ok && e.Status == StatusBufferTooSmall && int(n) > len(ids) {
			ids = make([]int32, int(n))
			continue
		}
		if err != nil {
			return nil, err
		}
		return ids[:n], nil
	}
}

// Detokenize returns the text of ids (bytes of a cut UTF-8 character are
// kept raw, so the string may not be valid UTF-8).
func (m *Model) Detokenize(ids []int32) (string, error) {
	ptr, err := m.use()
	if err != nil {
		return "", err
	}
	defer m.mu.RUnlock()
	var cIDs *C.int32_t
	if len(ids) > 0 {
		cIDs = (*C.int32_t)(unsafe.Pointer(&ids[0]))
	}
	buf := make([]byte, len(ids)*4+16)
	for {
		var n C.size_t
		err := callC(func() C.ernie_status {
			return C.ernie_detokenize(ptr, cIDs, C.size_t(len(ids)), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
		})
		if e, ok := err.(*Error); ok && e.Status == StatusBufferTooSmall && int(n)+1 > len(buf) {
			buf = make([]byte, int(n)+1)
			continue
		}
		if err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
}
