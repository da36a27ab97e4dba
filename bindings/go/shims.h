/* C helpers that install the Go trampolines (callbacks.go) in params
 * structs; `handle` is a cgo.Handle value carried as user_data. */
#ifndef ERNIE_GO_SHIMS_H
#define ERNIE_GO_SHIMS_H

#include <stdint.h>

#include "ernie.h"

void ernie_go_generate_callbacks(ernie_generate_params *p, uintptr_t handle, int with_tools);
void ernie_go_model_callbacks(ernie_model_params *p, uintptr_t progress, uintptr_t log);
void ernie_go_pack_progress(ernie_pack_params *p, uintptr_t progress);

#endif
