// C API: ernie_pack_params_init, ernie_pack (include/ernie.h).
#include "api/api_common.h"
#include "hf/packer.h"

using namespace ernie;

static void pack_params_defaults(ernie_pack_params* params) {
  *params = ernie_pack_params{};
  params->struct_size = sizeof(ernie_pack_params);
  params->type = ERNIE_TYPE_AUTO;
  params->n_threads = 0;
}
ERNIE_PARAMS_INIT(ernie_pack_params_init, ernie_pack_params, ::ernie::api::kPackParamsSize1_0, pack_params_defaults)

extern "C" ERNIE_API ernie_status ernie_pack(const char* hf_dir, const char* out_path,
                                            const ernie_pack_params* in_params) {
  return api::guarded("ernie_pack", [&] {
    ERNIE_REQUIRE_ARG(hf_dir && *hf_dir, "ernie_pack: hf_dir is NULL or empty");
    ERNIE_REQUIRE_ARG(out_path && *out_path, "ernie_pack: out_path is NULL or empty");
    ernie_pack_params params;
    ernie_pack_params_init(&params);
    api::read_params(in_params, &params, "ernie_pack_params");
    ERNIE_REQUIRE_ARG(params.n_threads >= 0, "ernie_pack: n_threads = %d must be >= 0", params.n_threads);

    PackOptions opt;
    switch (params.type) {
      case ERNIE_TYPE_AUTO: break;
      case ERNIE_TYPE_F32: opt.type = DType::F32; break;
      case ERNIE_TYPE_F16: opt.type = DType::F16; break;
      case ERNIE_TYPE_BF16: opt.type = DType::BF16; break;
      case ERNIE_TYPE_Q8: opt.recipe = quant::Recipe::Q8; break;
      case ERNIE_TYPE_Q6: opt.recipe = quant::Recipe::Q6; break;
      case ERNIE_TYPE_Q4: opt.recipe = quant::Recipe::Q4; break;
      case ERNIE_TYPE_Q2: opt.recipe = quant::Recipe::Q2; break;
      default: ERNIE_FAIL(ERNIE_E_INVALID_ARGUMENT, "ernie_pack: type %d is not an ERNIE_TYPE_* value", params.type);
    }
    opt.n_threads = params.n_threads;
    if (params.progress) {
      opt.progress = [fn = params.progress, user = params.progress_user_data](float f) { return fn(user, f) == 0; };
    }
    // No log level in the params: the callback sees everything up to INFO.
    opt.log = Logger(params.log, params.log_user_data, ERNIE_LOG_INFO);
    pack_checkpoint(hf_dir, out_path, opt);
  });
}
