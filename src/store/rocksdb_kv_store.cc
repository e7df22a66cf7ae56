// The "rocksdb" KvStore: one RocksDB database (default column family) in a folder.
//
// Stored value = expires_at as 8 bytes little-endian, then the payload. An append is a merge operand:
// expires_at, the wall-clock time it was written (8 bytes each), then the bytes to append; AppendOperator
// folds operands into the value on read and in compaction, judging whether the value had expired by the
// operand's write time (not the time compaction runs). Reads drop expired values;
// ExpiryFilter turns them into tombstones when compaction rewrites them (RocksDB converts a removed key
// into a deletion, so an older version below cannot resurface), and periodic compaction makes sure files
// that no write touches are still rewritten at least daily.
//
// Options are tuned for small random reads and writes: a 10-bit bloom filter per table (a miss rarely
// reads a data block) and one over each memtable's whole keys (a miss — every new event id a scored login
// checks — then skips the memtables' skip lists), a 64 MB block cache holding index and filter blocks too,
// level compaction, LZ4 (when the library has it), and writes through the WAL without fsync.
#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "store/kv_backends.h"

namespace gyre::store {
namespace {

constexpr size_t kHeaderBytes = 8;
constexpr size_t kBlockCacheBytes = 64 << 20;

void EncodeExpiry(int64_t expires_at, char* out) {
  auto v = static_cast<uint64_t>(expires_at);
  for (size_t i = 0; i < kHeaderBytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

int64_t DecodeExpiry(const char* in) {
  uint64_t v = 0;
  for (size_t i = 0; i < kHeaderBytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return static_cast<int64_t>(v);
}

std::string EncodeValue(std::string_view value, int64_t expires_at) {
  std::string out(kHeaderBytes + value.size(), '\0');
  EncodeExpiry(expires_at, out.data());
  std::copy(value.begin(), value.end(), out.begin() + kHeaderBytes);
  return out;
}

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

std::string EncodeAppend(std::string_view value, int64_t expires_at, int64_t written_at) {
  std::string out(2 * kHeaderBytes + value.size(), '\0');
  EncodeExpiry(expires_at, out.data());
  EncodeExpiry(written_at, out.data() + kHeaderBytes);
  std::copy(value.begin(), value.end(), out.begin() + 2 * kHeaderBytes);
  return out;
}

class AppendOperator final : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    std::string& value = out->new_value;
    value.clear();
    int64_t expires_at = 0;
    if (in.existing_value != nullptr) {
      if (in.existing_value->size() < kHeaderBytes) return false;  // reported as corruption
      expires_at = DecodeExpiry(in.existing_value->data());
      value.assign(in.existing_value->data() + kHeaderBytes, in.existing_value->size() - kHeaderBytes);
    }
    for (const rocksdb::Slice& operand : in.operand_list) {
      if (operand.size() < 2 * kHeaderBytes) return false;
      if (KvExpired(expires_at, DecodeExpiry(operand.data() + kHeaderBytes))) value.clear();
      expires_at = DecodeExpiry(operand.data());
      value.append(operand.data() + 2 * kHeaderBytes, operand.size() - 2 * kHeaderBytes);
    }
    value.insert(0, kHeaderBytes, '\0');
    EncodeExpiry(expires_at, value.data());
    return true;
  }
  const char* Name() const override { return "gyre.AppendOperator"; }
};

class ExpiryFilter final : public rocksdb::CompactionFilter {
 public:
  bool Filter(int /*level*/, const rocksdb::Slice& /*key*/, const rocksdb::Slice& value, std::string* /*new_value*/,
              bool* /*value_changed*/) const override {
    if (value.size() < kHeaderBytes) return false;  // not ours: keep it, Get reports it
    return KvExpired(DecodeExpiry(value.data()), KvNowMicros());
  }
  const char* Name() const override { return "gyre.ExpiryFilter"; }
};

// The smallest string greater than every string starting with `prefix`, or "" when there is none (the
// prefix is empty or all 0xff bytes).
std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && static_cast<unsigned char>(s.back()) == 0xff) s.pop_back();
  if (!s.empty()) s.back() = static_cast<char>(static_cast<unsigned char>(s.back()) + 1);
  return s;
}

class RocksDbKvStore final : public KvStore {
 public:
  RocksDbKvStore(std::string dir, std::unique_ptr<ExpiryFilter> filter, std::unique_ptr<rocksdb::DB> db)
      : dir_(std::move(dir)), filter_(std::move(filter)), db_(std::move(db)) {}

  ~RocksDbKvStore() override {
    // Close() waits for background work; its status has nowhere to go, and the WAL already holds every
    // acknowledged write.
    (void)db_->Close();
    db_.reset();  // before filter_, which the DB's options point to
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    rocksdb::PinnableSlice raw;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), ToSlice(key), &raw);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return Convert(s, "get", key);
    return Decode(raw, key);
  }

  Result<std::vector<std::optional<std::string>>> MultiGet(std::span<const std::string> keys) override {
    std::vector<std::optional<std::string>> out(keys.size());
    if (keys.empty()) return out;
    std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), keys.size(), slices.data(), values.data(),
                  statuses.data());
    for (size_t i = 0; i < keys.size(); ++i) {
      if (statuses[i].IsNotFound()) continue;
      if (!statuses[i].ok()) return Convert(statuses[i], "multi-get", keys[i]);
      GYRE_ASSIGN_OR_RETURN(out[i], Decode(values[i], keys[i]));
    }
    return out;
  }

  Status Put(std::string_view key, std::string_view value, int64_t expires_at) override {
    rocksdb::Status s = db_->Put(WriteOptions(), ToSlice(key), EncodeValue(value, expires_at));
    return s.ok() ? Status::OK() : Convert(s, "put", key);
  }

  Status Delete(std::string_view key) override {
    rocksdb::Status s = db_->Delete(WriteOptions(), ToSlice(key));
    return s.ok() ? Status::OK() : Convert(s, "delete", key);
  }

  Status WriteBatch(std::span<const KvWrite> writes) override {
    if (writes.empty()) return Status::OK();
    rocksdb::WriteBatch batch;
    rocksdb::Status s;
    for (const KvWrite& w : writes) {
      if (!w.value) {
        s = batch.Delete(w.key);
      } else if (w.append) {
        s = batch.Merge(w.key, EncodeAppend(*w.value, w.expires_at, KvNowMicros()));
      } else {
        s = batch.Put(w.key, EncodeValue(*w.value, w.expires_at));
      }
      if (!s.ok()) return Convert(s, "write batch", w.key);
    }
    s = db_->Write(WriteOptions(), &batch);
    return s.ok() ? Status::OK() : Convert(s, fmt::format("write batch of {}", writes.size()), std::nullopt);
  }

  Status Sync() override {
    rocksdb::Status s = db_->SyncWAL();
    return s.ok() ? Status::OK() : Convert(s, "sync of the write-ahead log", std::nullopt);
  }

  Status DeletePrefix(std::string_view prefix) override {
    // The iterator finds whether anything is there (so an empty prefix costs no tombstone) and, when no
    // upper bound exists, the last key; one range tombstone then covers the rest.
    std::string upper = PrefixSuccessor(prefix);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
    it->Seek(ToSlice(prefix));
    if (!it->Valid()) return it->status().ok() ? Status::OK() : Convert(it->status(), "delete prefix", prefix);
    rocksdb::WriteBatch batch;
    rocksdb::Status s;
    if (!upper.empty()) {
      s = batch.DeleteRange(ToSlice(prefix), upper_slice);
    } else {
      // Every key >= an all-0xff prefix starts with it, so the range ends at the last key.
      it->SeekToLast();
      if (!it->Valid()) return it->status().ok() ? Status::OK() : Convert(it->status(), "delete prefix", prefix);
      std::string last = it->key().ToString();
      s = batch.DeleteRange(ToSlice(prefix), last);
      if (s.ok()) s = batch.Delete(last);
    }
    it.reset();
    if (s.ok()) s = db_->Write(WriteOptions(), &batch);
    return s.ok() ? Status::OK() : Convert(s, "delete prefix", prefix);
  }

  std::string_view backend() const override { return "rocksdb"; }
  bool single_writer() const override { return true; }

  Result<int64_t> RawCount(bool compact_first) {
    if (compact_first) {
      rocksdb::CompactRangeOptions options;
      options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      rocksdb::Status s = db_->CompactRange(options, nullptr, nullptr);
      if (!s.ok()) return Convert(s, "compact", std::nullopt);
    }
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    int64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
    if (!it->status().ok()) return Convert(it->status(), "count", std::nullopt);
    return n;
  }

 private:
  static rocksdb::WriteOptions WriteOptions() {
    rocksdb::WriteOptions wo;
    wo.sync = false;  // the WAL is written (a process crash loses nothing) but not fsynced per write
    wo.disableWAL = false;
    return wo;
  }

  Result<std::optional<std::string>> Decode(const rocksdb::Slice& raw, std::string_view key) const {
    if (raw.size() < kHeaderBytes) {
      return Status::Corruption(
          fmt::format("online store {}: key '{}': stored value is {} bytes, shorter than its {}-byte expiry header",
                      dir_, PrintableKey(key), raw.size(), kHeaderBytes));
    }
    if (KvExpired(DecodeExpiry(raw.data()), KvNowMicros())) return std::optional<std::string>();
    return std::optional<std::string>(std::in_place, raw.data() + kHeaderBytes, raw.size() - kHeaderBytes);
  }

  Status Convert(const rocksdb::Status& s, std::string_view op, std::optional<std::string_view> key) const {
    std::string message = key ? fmt::format("online store {}: {} '{}': {}", dir_, op, PrintableKey(*key), s.ToString())
                              : fmt::format("online store {}: {}: {}", dir_, op, s.ToString());
    if (s.IsIOError()) return Status::IOError(std::move(message));
    if (s.IsCorruption()) return Status::Corruption(std::move(message));
    if (s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) return Status::Unavailable(std::move(message));
    if (s.IsInvalidArgument()) return Status::InvalidArgument(std::move(message));
    if (s.IsNotSupported()) return Status::Unimplemented(std::move(message));
    return Status::Internal(std::move(message));
  }

  const std::string dir_;
  const std::unique_ptr<ExpiryFilter> filter_;
  std::unique_ptr<rocksdb::DB> db_;
};

rocksdb::CompressionType FastestCompression() {
  for (rocksdb::CompressionType t : rocksdb::GetSupportedCompressions()) {
    if (t == rocksdb::kLZ4Compression) return t;
  }
  return rocksdb::kNoCompression;
}

}  // namespace

Result<int64_t> TEST_RocksDbRawCount(KvStore* store, bool compact_first) {
  auto* rocks = dynamic_cast<RocksDbKvStore*>(store);
  if (rocks == nullptr) return Status::InvalidArgument("not a rocksdb store");
  return rocks->RawCount(compact_first);
}

Result<std::unique_ptr<KvStore>> OpenRocksDbKvStore(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(fmt::format("online store {}: cannot create the folder: {}", dir, ec.message()));

  auto filter = std::make_unique<ExpiryFilter>();
  rocksdb::Options options;
  options.create_if_missing = true;
  options.compaction_filter = filter.get();
  options.merge_operator = std::make_shared<AppendOperator>();
  options.compaction_style = rocksdb::kCompactionStyleLevel;
  options.periodic_compaction_seconds = 24 * 60 * 60;
  options.max_background_jobs = 2;
  options.write_buffer_size = 32 << 20;
  options.memtable_prefix_bloom_size_ratio = 0.05;  // 1.6 MB of a 32 MB memtable: ~10 bits per small key
  options.memtable_whole_key_filtering = true;
  options.max_write_buffer_number = 3;
  options.target_file_size_base = 32 << 20;
  options.max_bytes_for_level_base = 256 << 20;
  options.compression = FastestCompression();
  options.keep_log_file_num = 3;  // RocksDB's own info LOG files in the folder
  options.max_log_file_size = 8 << 20;

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // Flushes and compactions yield the CPU to the threads that answer requests (as gyre's own background
  // threads do, core/background_thread.h): on a machine with as many busy threads as cores they otherwise
  // preempt a request for a whole time slice. The pools are process-wide; lowering them twice is harmless.
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::LOW, rocksdb::CpuPriority::kLow);
  options.env->LowerThreadPoolCPUPriority(rocksdb::Env::Priority::HIGH, rocksdb::CpuPriority::kLow);

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) {
    std::string text = s.ToString();
    // RocksDB holds an fcntl lock on <dir>/LOCK while open; a second opener gets "While lock file" from the
    // OS (another process) or "lock hold by current process" (this one).
    if (text.find("lock hold by current process") != std::string::npos) {
      return Status::FailedPrecondition(
          fmt::format("online store {} is in use: it is already open in this gyre process", dir));
    }
    if (text.find("While lock file") != std::string::npos) {
      return Status::FailedPrecondition(
          fmt::format("online store {} is in use by another gyre process ({})", dir, text));
    }
    std::string message = fmt::format("online store {}: open: {}", dir, text);
    if (s.IsIOError()) return Status::IOError(std::move(message));
    return s.IsCorruption() ? Status::Corruption(std::move(message)) : Status::Internal(std::move(message));
  }
  return std::unique_ptr<KvStore>(
      std::make_unique<RocksDbKvStore>(dir, std::move(filter), std::unique_ptr<rocksdb::DB>(raw)));
}

}  // namespace gyre::store
