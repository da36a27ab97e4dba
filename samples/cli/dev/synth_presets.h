// Model shapes `ernie synth` can generate: the published ERNIE 4.5
// configurations (ERNIE45.md §2) and a tiny one for tests.
#pragma once

#include <string>
#include <vector>

#include "model/config.h"

namespace ernie::dev {

// "21b-a3b", "0.3b", "tiny".
const std::vector<std::string>& synth_preset_names();

// The preset's config.json document (Hugging Face keys). Throws
// ERNIE_E_INVALID_ARGUMENT for an unknown name.
Json synth_preset_config_json(const std::string& name);

}  // namespace ernie::dev
