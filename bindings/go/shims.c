#include "shims.h"

#include "_cgo_export.h"

void ernie_go_generate_callbacks(ernie_generate_params *p, uintptr_t handle, int with_tools) {
  p->on_event = (ernie_event_fn)ernieGoEvent;
  p->user_data = (void *)handle;
  if (with_tools) {
    p->on_tool_call = (ernie_tool_fn)ernieGoTool;
    p->tool_user_data = (void *)handle;
  }
}

void ernie_go_model_callbacks(ernie_model_params *p, uintptr_t progress, uintptr_t log) {
  if (progress) {
    p->progress = (ernie_progress_fn)ernieGoProgress;
    p->progress_user_data = (void *)progress;
  }
  if (log) {
    p->log = (ernie_log_fn)ernieGoLog;
    p->log_user_data = (void *)log;
  }
}

void ernie_go_pack_progress(ernie_pack_params *p, uintptr_t progress) {
  p->progress = (ernie_progress_fn)ernieGoProgress;
  p->progress_user_data = (void *)progress;
}
