#include <cstdio>

#include "cli_args.h"

namespace cli {

int cmd_info(const std::vector<std::string>& argv) {
  Args args(argv, {"-m", "--threads"}, {"--verify", "--json"});
  ernie_model* model = load_model(args);
  ernie_model_info info{};
  info.struct_size = sizeof(info);
  try {
    check(ernie_model_get_info(model, &info), "info");
    if (args.has("--verify")) check(ernie_model_verify(model, nullptr, nullptr), "verification failed");
    const int32_t ctx = info.max_context < 4096 ? info.max_context : 4096;
    uint64_t session = 0;
    check(ernie_model_session_bytes(model, ctx, 512, &session), "info");
    const char* meta = nullptr;
    check(ernie_model_metadata(model, &meta), "info");
    const bool moe = info.arch == ERNIE_ARCH_MOE;
    if (args.has("--json")) {
      std::printf(
          "{\"arch\": \"%s\", \"n_layers\": %d, \"hidden_size\": %d, \"intermediate_size\": %d, "
          "\"moe_intermediate_size\": %d, \"n_heads\": %d, \"n_kv_heads\": %d, \"head_dim\": %d, "
          "\"n_experts\": %d, \"n_experts_used\": %d, \"n_shared_experts\": %d, \"n_moe_layers\": %d, "
          "\"vocab_size\": %d, \"n_tokenizer_vocab\": %d, \"max_context\": %d, \"tied_embeddings\": %s, "
          "\"n_tensors\": %d, \"n_params\": %llu, \"weight_bytes\": %llu, \"file_bytes\": %llu, \"kv_bytes_per_token\": %llu, "
          "\"session_bytes_ctx%d\": %llu, \"memory_estimate_bytes\": %llu, \"verified\": %s, \"metadata\": %s}\n",
          moe ? "Ernie4_5_MoeForCausalLM" : "Ernie4_5ForCausalLM", info.n_layers, info.hidden_size,
          info.intermediate_size, info.moe_intermediate_size, info.n_heads, info.n_kv_heads, info.head_dim,
          info.n_experts, info.n_experts_used, info.n_shared_experts, info.n_moe_layers, info.vocab_size,
          info.n_tokenizer_vocab, info.max_context, info.tied_embeddings ? "true" : "false", info.n_tensors,
          static_cast<unsigned long long>(info.n_params), static_cast<unsigned long long>(info.weight_bytes),
          static_cast<unsigned long long>(info.file_bytes), static_cast<unsigned long long>(info.kv_bytes_per_token),
          ctx, static_cast<unsigned long long>(session),
          static_cast<unsigned long long>(info.weight_bytes + session), args.has("--verify") ? "true" : "false",
          meta);
    } else {
      std::printf("architecture      %s\n", moe ? "Ernie4_5_MoeForCausalLM (MoE)" : "Ernie4_5ForCausalLM (dense)");
      std::printf("layers            %d (%d MoE)\n", info.n_layers, info.n_moe_layers);
      std::printf("hidden / ffn      %d / %d\n", info.hidden_size, info.intermediate_size);
      std::printf("heads (q / kv)    %d / %d, head_dim %d\n", info.n_heads, info.n_kv_heads, info.head_dim);
      if (moe) {
        std::printf("experts           %d, top-%d, %d shared, width %d\n", info.n_experts, info.n_experts_used,
                    info.n_shared_experts, info.moe_intermediate_size);
      }
      std::printf("vocabulary        %d (%d tokenizer pieces)\n", info.vocab_size, info.n_tokenizer_vocab);
      std::printf("max context       %d\n", info.max_context);
      std::printf("tied embeddings   %s\n", info.tied_embeddings ? "yes" : "no");
      std::printf("tensors           %d\n", info.n_tensors);
      std::printf("parameters        %llu\n", static_cast<unsigned long long>(info.n_params));
      std::printf("weight bytes      %llu\n", static_cast<unsigned long long>(info.weight_bytes));
      std::printf("file bytes        %llu\n", static_cast<unsigned long long>(info.file_bytes));
      std::printf("KV bytes / token  %llu\n", static_cast<unsigned long long>(info.kv_bytes_per_token));
      std::printf("memory estimate   %llu bytes (weights + a %d-token session)\n",
                  static_cast<unsigned long long>(info.weight_bytes + session), ctx);
      if (args.has("--verify")) std::printf("tensor checksums  verified\n");
    }
  } catch (...) {
    ernie_model_free(model);
    throw;
  }
  ernie_model_free(model);
  return 0;
}

}  // namespace cli
