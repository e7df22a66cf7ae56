#include "features/write_journal.h"

#include <fmt/format.h>

namespace gyre::features {
namespace {

constexpr std::string_view kJournalPrefix{"\0gyre-journal\0", 14};
constexpr uint8_t kAppendFlag = 1;
constexpr uint8_t kDeleteFlag = 2;

void PutFixed64(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads from `bytes` at `pos`, advancing it; false when the bytes end first (or a varint is too long).
struct Reader {
  std::string_view bytes;
  size_t pos = 0;
  bool Fixed64(uint64_t* v) {
    if (bytes.size() - pos < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[pos + i])) << (8 * i);
    pos += 8;
    return true;
  }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && pos < bytes.size(); shift += 7) {
      const auto byte = static_cast<unsigned char>(bytes[pos++]);
      *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool Bytes(uint64_t n, std::string_view* out) {
    if (bytes.size() - pos < n) return false;
    *out = bytes.substr(pos, n);
    pos += n;
    return true;
  }
};

std::string Printable(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

}  // namespace

std::string JournalKey(uint64_t seq) {
  std::string key(kJournalPrefix);
  // Big-endian, so the entries also sort in seq order in the store.
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>((seq >> (8 * i)) & 0xff));
  return key;
}

std::string EncodeFoldedSeq(uint64_t seq) {
  std::string out;
  PutFixed64(seq, &out);
  return out;
}

Result<uint64_t> DecodeFoldedSeq(std::string_view bytes) {
  Reader reader{bytes};
  uint64_t seq = 0;
  if (bytes.size() != 8 || !reader.Fixed64(&seq)) {
    return Status::Corruption(fmt::format("online store journal: '{}' holds {} bytes, expected 8",
                                          Printable(kFoldedKey), bytes.size()));
  }
  return seq;
}

void EncodeBatch(std::span<const store::KvWrite> writes, std::string* out) {
  for (const store::KvWrite& w : writes) {
    uint8_t flags = 0;
    if (w.append) flags |= kAppendFlag;
    if (!w.value) flags |= kDeleteFlag;
    out->push_back(static_cast<char>(flags));
    PutFixed64(static_cast<uint64_t>(w.expires_at), out);
    PutVarint(w.key.size(), out);
    PutVarint(w.value ? w.value->size() : 0, out);
    out->append(w.key);
    if (w.value) out->append(*w.value);
  }
}

Result<std::vector<store::KvWrite>> DecodeBatch(std::string_view key, std::string_view bytes) {
  std::vector<store::KvWrite> writes;
  Reader reader{bytes};
  while (reader.pos < bytes.size()) {
    const size_t start = reader.pos;
    const auto flags = static_cast<uint8_t>(bytes[reader.pos++]);
    uint64_t expires_at = 0, key_size = 0, value_size = 0;
    std::string_view write_key, value;
    if ((flags & ~(kAppendFlag | kDeleteFlag)) != 0 || !reader.Fixed64(&expires_at) || !reader.Varint(&key_size) ||
        !reader.Varint(&value_size) || !reader.Bytes(key_size, &write_key) || !reader.Bytes(value_size, &value) ||
        ((flags & kDeleteFlag) != 0 && value_size != 0)) {
      return Status::Corruption(fmt::format("online store journal entry '{}' ({} bytes) is damaged at byte {} (write {})",
                                            Printable(key), bytes.size(), start, writes.size()));
    }
    store::KvWrite& w = writes.emplace_back();
    w.key.assign(write_key);
    w.expires_at = static_cast<int64_t>(expires_at);
    w.append = (flags & kAppendFlag) != 0;
    if ((flags & kDeleteFlag) == 0) w.value.emplace(value);
  }
  return writes;
}

void FoldedWrites::Add(store::KvWrite write) {
  ++added_;
  auto [it, inserted] = index_.try_emplace(write.key, writes_.size());
  if (inserted) {
    writes_.push_back(std::move(write));
    counts_.push_back(1);
    return;
  }
  store::KvWrite& folded = writes_[it->second];
  ++counts_[it->second];
  if (write.append && write.value && folded.value) {
    // Onto a put stays a put (of the longer value); onto an append stays an append.
    folded.value->append(*write.value);
    folded.expires_at = write.expires_at;
    return;
  }
  // A put or delete replaces whatever came before; an append after a delete starts from nothing: a put.
  const bool append_after_delete = write.append && !folded.value;
  folded = std::move(write);
  if (append_after_delete) folded.append = false;
}

FoldedWrites::Folded FoldedWrites::Take() {
  Folded out{std::move(writes_), std::move(counts_)};
  writes_.clear();
  counts_.clear();
  index_.clear();
  added_ = 0;
  return out;
}

}  // namespace gyre::features
