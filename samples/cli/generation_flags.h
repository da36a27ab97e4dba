// The sampling and generation flags shared by `ernie run` and `ernie chat`:
//   --temp T (0 = greedy)  --top-k K  --top-p P  --min-p P  --repeat-penalty R
//   --presence-penalty P  --frequency-penalty F  --penalty-window N  --seed S
//   -n/--max-tokens N  --stop STR (repeatable)  --logprobs N
//   --no-reasoning  --reasoning-budget N  --threads N  --ctx N  --schema FILE (JSON Schema of the answer)
#pragma once

#include <string>
#include <vector>

#include "cli_args.h"

namespace cli {

// Flag names to pass to Args.
extern const std::vector<std::string> kGenerationValueFlags;
extern const std::vector<std::string> kGenerationRepeatableFlags;
extern const std::vector<std::string> kGenerationSwitches;

class GenerationFlags {
 public:
  explicit GenerationFlags(const Args& args);
  // Params pointing into this object (valid while it lives).
  ernie_generate_params params(ernie_event_fn on_event, void* user_data) const;
  int32_t n_ctx() const { return n_ctx_; }

 private:
  ernie_sampling_params sampling_{};
  bool greedy_ = false;
  int32_t max_tokens_ = 512, n_logprobs_ = 0, n_threads_ = 0, reasoning_budget_ = 0, n_ctx_ = 0;
  bool no_reasoning_ = false;
  std::vector<std::string> stops_;
  std::string schema_;
  std::vector<const char*> stop_ptrs_;
};

const char* finish_reason_name(int32_t reason);

// Creates a model and a session from -m, --threads, --ctx; exits on failure.
ernie_session* open_session(const Args& args, int32_t n_ctx, ernie_model** out_model);

}  // namespace cli
