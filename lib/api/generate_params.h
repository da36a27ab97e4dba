// Translating the C generation structs into the core's options, and running
// a generation on behalf of the C API (result strings live in the handle).
#pragma once

#include <vector>

#include "ernie.h"
#include "generation/generator.h"
#include "model/config.h"

namespace ernie::api {

GenerateOptions generate_options_of(const ernie_generate_params* params);

ernie_status run_generation(ernie_session* session, const std::vector<int32_t>& prompt,
                            const GenerateOptions& options, ernie_generate_result* result);

// Copies a finished generation into the session handle (which owns what the
// result lends) and into the caller's result struct. `calls`: the tool calls
// to report, `added_messages`: the chat messages this call produced.
void publish_result(ernie_session* session, GenerationResult&& g, const std::vector<Json>& calls,
                    const Json& added_messages, ernie_generate_result* result);
void check_result_struct(const ernie_generate_result* result);

}  // namespace ernie::api
