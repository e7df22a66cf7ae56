// Tests of the online store's write journal (features/write_journal.h): entries decode to what was encoded,
// damaged entries are Corruption naming where, and folded writes have the effect of the writes in order.
#include "features/write_journal.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "store/kv_store.h"

namespace gyre::features {
namespace {

using store::KvWrite;

KvWrite Put(std::string key, std::string value, int64_t expires_at = 0) {
  return {std::move(key), std::move(value), expires_at, false};
}
KvWrite Append(std::string key, std::string value, int64_t expires_at = 0) {
  return {std::move(key), std::move(value), expires_at, true};
}
KvWrite Delete(std::string key) { return {std::move(key), std::nullopt, 0, false}; }

void ExpectSameWrites(const std::vector<KvWrite>& got, const std::vector<KvWrite>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].key, want[i].key) << i;
    EXPECT_EQ(got[i].value, want[i].value) << i;
    EXPECT_EQ(got[i].append, want[i].append) << i;
    if (got[i].value) {
      EXPECT_EQ(got[i].expires_at, want[i].expires_at) << i;
    }
  }
}

TEST(WriteJournalTest, BatchesDecodeToWhatWasEncoded) {
  const std::string binary("\0\x1f\xff\x80 k", 6);
  std::vector<KvWrite> writes = {
      Put("g\x1f" "1:u", "snapshot", 1'700'000'000'000'000),
      Append(binary, std::string(300, '\0') + "tail", -5),  // value length needs a two-byte varint
      Delete("gone"),
      Put("", "", 0),  // empty key and value
      Append("k", std::string(70'000, 'x'), INT64_MAX),
  };
  std::string bytes = "left alone";
  EncodeBatch(writes, &bytes);
  ASSERT_EQ(bytes.substr(0, 10), "left alone");
  Result<std::vector<KvWrite>> decoded = DecodeBatch("entry", std::string_view(bytes).substr(10));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameWrites(*decoded, writes);

  Result<std::vector<KvWrite>> empty = DecodeBatch("entry", "");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(WriteJournalTest, DamagedEntriesAreCorruptionNamingKeyAndByte) {
  std::string bytes;
  EncodeBatch(std::vector<KvWrite>{Put("first", "abc"), Append("second", "defgh")}, &bytes);
  const size_t second_at = 1 + 8 + 1 + 1 + 5 + 3;
  // Cut anywhere inside a write: the whole entry is refused, naming where the damaged write starts.
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    if (cut == second_at) continue;  // a cut between writes is a shorter valid batch
    Result<std::vector<KvWrite>> got = DecodeBatch(JournalKey(7), bytes.substr(0, cut));
    ASSERT_FALSE(got.ok()) << "cut at " << cut;
    EXPECT_EQ(got.status().code(), StatusCode::kCorruption);
    const std::string where = cut < second_at ? "at byte 0 (write 0)" : "at byte 19 (write 1)";
    EXPECT_NE(got.status().message().find(where), std::string::npos) << got.status().ToString();
    EXPECT_NE(got.status().message().find("\\x00gyre-journal\\x00"), std::string::npos) << got.status().ToString();
  }
  std::string bad_flags = bytes;
  bad_flags[0] = 4;
  EXPECT_EQ(DecodeBatch("e", bad_flags).status().code(), StatusCode::kCorruption);
  std::string delete_with_value = bytes;
  delete_with_value[0] = 2;
  EXPECT_EQ(DecodeBatch("e", delete_with_value).status().code(), StatusCode::kCorruption);
  std::string endless_varint = std::string(1, '\0') + std::string(8, '\0') + std::string(11, '\xff');
  EXPECT_EQ(DecodeBatch("e", endless_varint).status().code(), StatusCode::kCorruption);
}

TEST(WriteJournalTest, KeysSortInSeqOrderAndStayOutOfStateKeys) {
  EXPECT_LT(JournalKey(1), JournalKey(2));
  EXPECT_LT(JournalKey(255), JournalKey(256));
  EXPECT_LT(JournalKey(0xffffffff), JournalKey(0x100000000));
  EXPECT_EQ(JournalKey(3).size(), JournalKey(1ULL << 60).size());
  EXPECT_EQ(JournalKey(0)[0], '\0');  // state keys start with a group name, an identifier
  EXPECT_EQ(kFoldedKey[0], '\0');
  EXPECT_NE(JournalKey(0).substr(0, kFoldedKey.size()), kFoldedKey);

  Result<uint64_t> seq = DecodeFoldedSeq(EncodeFoldedSeq(123456789012345));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ(*seq, 123456789012345U);
  Result<uint64_t> short_seq = DecodeFoldedSeq("1234567");
  EXPECT_EQ(short_seq.status().code(), StatusCode::kCorruption);
  EXPECT_NE(short_seq.status().message().find("holds 7 bytes"), std::string::npos) << short_seq.status().ToString();
}

// The effect of writes applied one by one: a missing key's append starts from empty; expiry is the last
// write's (the journal's folds are judged at one time, so expiry itself is not modelled here).
using Model = std::map<std::string, std::pair<std::string, int64_t>>;
void Apply(const KvWrite& w, Model* model) {
  if (!w.value) {
    model->erase(w.key);
  } else if (w.append) {
    auto& [value, expires_at] = (*model)[w.key];
    value += *w.value;
    expires_at = w.expires_at;
  } else {
    (*model)[w.key] = {*w.value, w.expires_at};
  }
}

TEST(WriteJournalTest, FoldedWritesHaveTheEffectOfTheWritesInOrder) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    Model start;
    for (int k = 0; k < 4; ++k) {
      if (rng() % 2) start["k" + std::to_string(k)] = {"base" + std::to_string(k), 5};
    }
    std::vector<KvWrite> writes;
    const int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      std::string key = "k" + std::to_string(rng() % 5);
      const auto kind = rng() % 6;
      const int64_t expires = static_cast<int64_t>(rng() % 100);
      std::string value = std::to_string(i) + ";";
      if (kind == 0) {
        writes.push_back(Delete(key));
      } else if (kind == 1) {
        writes.push_back(Put(key, value, expires));
      } else {
        writes.push_back(Append(key, value, expires));
      }
    }
    Model one_by_one = start;
    for (const KvWrite& w : writes) Apply(w, &one_by_one);

    FoldedWrites folded;
    for (const KvWrite& w : writes) folded.Add(w);
    EXPECT_EQ(folded.added(), n);
    FoldedWrites::Folded taken = folded.Take();
    EXPECT_TRUE(folded.empty());
    EXPECT_EQ(folded.added(), 0);
    Model at_once = start;
    std::map<std::string, int64_t> counted;
    for (size_t i = 0; i < taken.writes.size(); ++i) {
      EXPECT_EQ(counted.count(taken.writes[i].key), 0U) << "one write per key";
      counted[taken.writes[i].key] = taken.counts[i];
      Apply(taken.writes[i], &at_once);
    }
    std::map<std::string, int64_t> expected_counts;
    for (const KvWrite& w : writes) ++expected_counts[w.key];
    EXPECT_EQ(counted, expected_counts) << "round " << round;
    ASSERT_EQ(at_once, one_by_one) << "round " << round;
  }
}

}  // namespace
}  // namespace gyre::features
