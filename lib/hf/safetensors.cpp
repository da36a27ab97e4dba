#include "hf/safetensors.h"

#include "platform/platform.h"
#include "util/bytes.h"
#include "util/error.h"
#include "util/json.h"

namespace ernie {
namespace {

using Json = nlohmann::ordered_json;
using ull = unsigned long long;

// Every dtype the safetensors format defines, with its element size; only
// the float types the SDK converts carry a DType.
struct StDtype {
  const char* name;
  uint64_t bytes;
  std::optional<DType> dtype;
};
constexpr StDtype kDtypes[] = {
    {"BOOL", 1, std::nullopt}, {"U8", 1, std::nullopt},      {"I8", 1, std::nullopt},
    {"F8_E4M3", 1, std::nullopt}, {"F8_E5M2", 1, std::nullopt}, {"I16", 2, std::nullopt},
    {"U16", 2, std::nullopt},  {"F16", 2, DType::F16},       {"BF16", 2, DType::BF16},
    {"I32", 4, std::nullopt},  {"U32", 4, std::nullopt},     {"F32", 4, DType::F32},
    {"I64", 8, std::nullopt},  {"U64", 8, std::nullopt},     {"F64", 8, std::nullopt},
};

const StDtype* find_dtype(const std::string& name) {
  for (const StDtype& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

#define ST_CHECK(cond, status, fmt, ...) \
  ERNIE_CHECK((cond), (status), "safetensors file '%s': " fmt, path.c_str(), ##__VA_ARGS__)

uint64_t get_u64(const Json& v, const std::string& path, const std::string& tensor, const char* field) {
  ST_CHECK(v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0), ERNIE_E_INVALID_MODEL,
           "tensor '%s': %s must hold non-negative integers", tensor.c_str(), field);
  return v.get<uint64_t>();
}

SafetensorsTensor parse_entry(const std::string& name, const Json& v, uint64_t data_bytes, uint64_t data_start,
                              const std::string& path) {
  const char* n = name.c_str();
  ST_CHECK(v.is_object(), ERNIE_E_INVALID_MODEL, "tensor '%s': entry is not an object", n);
  auto dt = v.find("dtype");
  auto shape = v.find("shape");
  auto offsets = v.find("data_offsets");
  ST_CHECK(dt != v.end() && dt->is_string(), ERNIE_E_INVALID_MODEL, "tensor '%s': missing 'dtype'", n);
  ST_CHECK(shape != v.end() && shape->is_array() && shape->size() <= 8, ERNIE_E_INVALID_MODEL,
           "tensor '%s': 'shape' must be a list of at most 8 dimensions", n);
  ST_CHECK(offsets != v.end() && offsets->is_array() && offsets->size() == 2, ERNIE_E_INVALID_MODEL,
           "tensor '%s': 'data_offsets' must be [begin, end]", n);

  SafetensorsTensor t;
  t.name = name;
  t.dtype_name = dt->get<std::string>();
  const StDtype* d = find_dtype(t.dtype_name);
  ST_CHECK(d != nullptr, ERNIE_E_UNSUPPORTED, "tensor '%s' has unknown dtype '%s'", n, t.dtype_name.c_str());
  t.dtype = d->dtype;

  constexpr uint64_t kMaxElements = uint64_t{1} << 48;  // keeps byte counts far from overflow
  uint64_t elements = 1;
  for (const Json& dim : *shape) {
    uint64_t x = get_u64(dim, path, name, "shape");
    ST_CHECK(x <= kMaxElements && checked_mul(elements, x, &elements) && elements <= kMaxElements,
             ERNIE_E_INVALID_MODEL, "tensor '%s': shape is absurdly large", n);
    t.shape.push_back(static_cast<int64_t>(x));
  }
  uint64_t begin = get_u64((*offsets)[0], path, name, "data_offsets");
  uint64_t end = get_u64((*offsets)[1], path, name, "data_offsets");
  ST_CHECK(begin <= end && end <= data_bytes, ERNIE_E_INVALID_MODEL,
           "tensor '%s': data_offsets [%llu, %llu] lie outside the %llu data bytes (file truncated?)", n,
           static_cast<ull>(begin), static_cast<ull>(end), static_cast<ull>(data_bytes));
  ST_CHECK(end - begin == elements * d->bytes, ERNIE_E_INVALID_MODEL,
           "tensor '%s': %llu data bytes, but shape and dtype %s need %llu", n, static_cast<ull>(end - begin),
           t.dtype_name.c_str(), static_cast<ull>(elements * d->bytes));
  t.offset = data_start + begin;
  t.size = end - begin;
  return t;
}

}  // namespace

uint64_t SafetensorsTensor::elements() const {
  uint64_t n = 1;
  for (int64_t d : shape) n *= static_cast<uint64_t>(d);
  return n;
}

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  file_ = std::make_unique<File>(path, File::Mode::Read);
  file_size_ = file_->size();
  ST_CHECK(file_size_ >= 8, ERNIE_E_INVALID_MODEL, "truncated: %llu bytes, shorter than the 8-byte header length",
           static_cast<ull>(file_size_));
  uint8_t len_bytes[8];
  file_->read_at(0, len_bytes, 8);
  const uint64_t header_len = load_le64(len_bytes);
  ST_CHECK(header_len <= kMaxHeaderBytes, ERNIE_E_INVALID_MODEL,
           "header length %llu is absurd (more than %llu bytes)", static_cast<ull>(header_len),
           static_cast<ull>(kMaxHeaderBytes));
  ST_CHECK(header_len <= file_size_ - 8, ERNIE_E_INVALID_MODEL,
           "truncated: the header needs %llu bytes, the file has %llu after the length", static_cast<ull>(header_len),
           static_cast<ull>(file_size_ - 8));
  data_start_ = 8 + header_len;

  std::string text(header_len, '\0');
  file_->read_at(8, text.data(), text.size());
  std::string what = "safetensors file '" + path + "': header";
  Json header = parse_json(text, what.c_str());
  text = std::string();
  ST_CHECK(header.is_object(), ERNIE_E_INVALID_MODEL, "header is not a JSON object");
  for (auto& [name, value] : header.items()) {
    if (name == "__metadata__") continue;
    index_.emplace(name, tensors_.size());
    tensors_.push_back(parse_entry(name, value, file_size_ - data_start_, data_start_, path));
  }
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(std::string(name));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::read(uint64_t offset, void* dst, size_t n) const { file_->read_at(offset, dst, n); }

}  // namespace ernie
