// Translating the C generation structs into the core's options, and running
// a generation on behalf of the C API (result strings live in the handle).
#pragma once

#include <vector>

#include "ernie.h"
#include "generation/generator.h"

namespace ernie::api {

GenerateOptions generate_options_of(const ernie_generate_params* params);

ernie_status run_generation(ernie_session* session, const std::vector<int32_t>& prompt,
                            const GenerateOptions& options, ernie_generate_result* result);

}  // namespace ernie::api
