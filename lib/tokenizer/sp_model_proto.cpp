#include "tokenizer/sp_model_proto.h"

#include "util/error.h"

namespace ernie {
namespace {

constexpr uint64_t kPiecesField = 1;
constexpr uint64_t kNormalizerSpecField = 3;
constexpr uint64_t kAddDummyPrefixField = 3;  // inside NormalizerSpec

// Protobuf wire format: each field is a varint key (field_number << 3 | wire
// type) followed by a varint (0), 8 bytes (1), a length-prefixed blob (2) or
// 4 bytes (5).
struct Reader {
  std::string_view buf;
  size_t pos = 0;

  bool done() const { return pos >= buf.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      ERNIE_CHECK(pos < buf.size(), ERNIE_E_INVALID_MODEL, "tokenizer model: truncated varint");
      auto b = static_cast<uint8_t>(buf[pos++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ERNIE_FAIL(ERNIE_E_INVALID_MODEL, "tokenizer model: varint too long");
  }

  void skip(uint64_t n) {
    ERNIE_CHECK(n <= buf.size() - pos, ERNIE_E_INVALID_MODEL, "tokenizer model: field runs past the end");
    pos += n;
  }

  // Skips a field's value of the given wire type.
  void skip_value(uint32_t wire) {
    switch (wire) {
      case 0: varint(); return;
      case 1: skip(8); return;
      case 2: skip(varint()); return;
      case 5: skip(4); return;
      default: ERNIE_FAIL(ERNIE_E_INVALID_MODEL, "tokenizer model: unsupported wire type %u", wire);
    }
  }
};

// Calls fn(piece_begin, piece_size) for every top-level field 1 (a piece).
template <typename F>
void for_each_piece(std::string_view proto, F&& fn) {
  Reader r{proto};
  while (!r.done()) {
    uint64_t key = r.varint();
    auto wire = static_cast<uint32_t>(key & 7);
    if ((key >> 3) == kPiecesField && wire == 2) {
      uint64_t len = r.varint();
      size_t begin = r.pos;
      r.skip(len);
      fn(begin, static_cast<size_t>(len));
    } else {
      r.skip_value(wire);
    }
  }
}

// Parses one SentencePiece message; *type_pos is the offset of the type
// varint within `proto` (0 if the type field is absent, i.e. NORMAL).
SpPiece parse_piece(std::string_view proto, size_t begin, size_t size, size_t* type_pos) {
  Reader r{proto.substr(0, begin + size), begin};
  SpPiece p;
  *type_pos = 0;
  while (!r.done()) {
    uint64_t key = r.varint();
    auto wire = static_cast<uint32_t>(key & 7);
    uint64_t field = key >> 3;
    if (field == 1 && wire == 2) {
      uint64_t len = r.varint();
      size_t at = r.pos;
      r.skip(len);
      p.text.assign(proto.substr(at, len));
    } else if (field == 3 && wire == 0) {
      size_t at = r.pos;
      uint64_t t = r.varint();
      ERNIE_CHECK(t >= 1 && t <= 6, ERNIE_E_INVALID_MODEL, "tokenizer model: unknown piece type %llu",
                  static_cast<unsigned long long>(t));
      p.type = static_cast<SpPieceType>(t);
      *type_pos = (r.pos - at == 1) ? at : 0;  // single-byte varint: patchable in place
    } else {
      r.skip_value(wire);
    }
  }
  return p;
}

void append_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Calls fn(field, wire, value_begin, value_end, field_begin) for each
// top-level field of `msg`.
template <typename F>
void for_each_field(std::string_view msg, F&& fn) {
  Reader r{msg};
  while (!r.done()) {
    size_t field_begin = r.pos;
    uint64_t key = r.varint();
    auto wire = static_cast<uint32_t>(key & 7);
    size_t value_begin = r.pos;
    if (wire == 2) {
      uint64_t len = r.varint();
      value_begin = r.pos;
      r.skip(len);
    } else {
      r.skip_value(wire);
    }
    fn(key >> 3, wire, value_begin, r.pos, field_begin);
  }
}

}  // namespace

bool sp_adds_dummy_prefix(std::string_view proto) {
  bool adds = true;  // the proto2 default
  for_each_field(proto, [&](uint64_t field, uint32_t wire, size_t b, size_t e, size_t) {
    if (field != kNormalizerSpecField || wire != 2) return;
    std::string_view spec = proto.substr(b, e - b);
    for_each_field(spec, [&](uint64_t f, uint32_t w, size_t vb, size_t, size_t) {
      if (f == kAddDummyPrefixField && w == 0) {
        Reader r{spec, vb};
        adds = r.varint() != 0;  // the last occurrence wins, as in protobuf
      }
    });
  });
  return adds;
}

std::string sp_without_dummy_prefix(std::string_view proto) {
  // Rewrite the NormalizerSpec with "add_dummy_prefix: false" appended; for a
  // scalar field protobuf keeps the last value it reads.
  std::string out;
  bool seen = false;
  for_each_field(proto, [&](uint64_t field, uint32_t wire, size_t b, size_t e, size_t fb) {
    if (field != kNormalizerSpecField || wire != 2) {
      out.append(proto.substr(fb, e - fb));
      return;
    }
    seen = true;
    std::string spec(proto.substr(b, e - b));
    append_varint(spec, kAddDummyPrefixField << 3);
    spec.push_back('\0');
    append_varint(out, kNormalizerSpecField << 3 | 2);
    append_varint(out, spec.size());
    out += spec;
  });
  if (!seen) {
    append_varint(out, kNormalizerSpecField << 3 | 2);
    append_varint(out, 2);
    append_varint(out, kAddDummyPrefixField << 3);
    out.push_back('\0');
  }
  return out;
}

std::vector<SpPiece> sp_list_pieces(std::string_view proto) {
  std::vector<SpPiece> pieces;
  for_each_piece(proto, [&](size_t begin, size_t size) {
    size_t type_pos;
    pieces.push_back(parse_piece(proto, begin, size, &type_pos));
  });
  return pieces;
}

std::string sp_demote_user_defined(std::string_view proto) {
  std::string out(proto);
  for_each_piece(proto, [&](size_t begin, size_t size) {
    size_t type_pos;
    SpPiece p = parse_piece(proto, begin, size, &type_pos);
    if (p.type == SpPieceType::UserDefined && type_pos != 0) {
      out[type_pos] = static_cast<char>(SpPieceType::Unused);  // same varint width
    }
  });
  return out;
}

}  // namespace ernie
