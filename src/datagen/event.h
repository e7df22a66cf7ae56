// The generator's in-memory event record, shared by the background generator, the campaign planner and
// the CSV output. One fixed-size struct for all three event files keeps the time merge a plain sort.
//
// Ordering: events are totally ordered by (time, key). key is unique and assigned where the event is
// made (background: user index and the user's own counter; campaigns: the planner's counter with the top
// bit set), so the merged order, and therefore every event_id, is the same for any thread count.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/time.h"

namespace gyre::datagen {

enum class EventKind : uint8_t { kLogin, kAccount, kPromo };
std::string_view EventKindName(EventKind kind);  // login, account_event, promo_redemption

enum class AccountEventType : uint8_t {
  kSignup,
  kPasswordChange,
  kEmailChange,
  kPhoneChange,
  kPayeeAdded,
  kAddressChange,
  kMfaEnabled,
};
inline constexpr int kAccountEventTypes = 7;
std::string_view AccountEventTypeName(AccountEventType type);

enum class LabelSource : uint8_t { kNone, kAnalyst, kCustomerReport, kChargeback };
inline constexpr int kLabelSources = 4;
std::string_view LabelSourceName(LabelSource source);

enum class CampaignType : uint8_t {
  kCredentialStuffing,
  kPasswordSpray,
  kAccountTakeover,  // foreign / datacenter login from a new device, then profile changes
  kTakeoverProxy,    // from the drift: residential proxies in the victim's own country and city
  kPromoAbuseRing,
};
inline constexpr int kCampaignTypes = 5;
std::string_view CampaignTypeName(CampaignType type);

enum EventFlags : uint8_t {
  kSuccess = 1,      // login: authenticated
  kMfa = 2,          // login: a second factor was completed
  kFraud = 4,        // ground truth: made by an attacker
  kRecovery = 8,     // a victim's own events after a takeover (legit, linked to the campaign)
  kLabelValue = 16,  // the label's value when label_source != kNone (may disagree with kFraud: noise)
  kSuspicious = 32,  // looked odd to the rules engine (new device, foreign, failures): more often reviewed
};

struct Event {
  TimestampMicros time = 0;
  uint64_t key = 0;
  uint64_t device = 0;             // device fingerprint, written as 16 hex digits
  uint64_t value = 0;              // account: hash of the new value (0 = none); promo: order amount, cents
  TimestampMicros labeled_at = 0;  // when label_source != kNone
  uint32_t user_code = 0;          // the user's UserProfile::code (the writer spells the id from it)
  uint32_t ip = 0;
  uint32_t asn = 0;
  uint32_t campaign = 0;           // 1-based campaign id; 0 = background
  int32_t lat_e4 = 0, lon_e4 = 0;  // degrees * 1e4
  uint16_t ua = 0;                 // index into World().user_agents
  EventKind kind = EventKind::kLogin;
  uint8_t country = 0;
  uint8_t subtype = 0;  // account: AccountEventType; promo: index into World().promos
  LabelSource label_source = LabelSource::kNone;
  uint8_t flags = 0;

  bool Has(uint8_t flag) const { return (flags & flag) != 0; }
};

// The total order of events, as a function object so that std::sort inlines it.
struct EventBefore {
  bool operator()(const Event& a, const Event& b) const { return a.time != b.time ? a.time < b.time : a.key < b.key; }
};

inline constexpr uint64_t kCampaignKeyBit = 1ULL << 63;
inline uint64_t BackgroundKey(uint32_t user, uint32_t seq) { return (static_cast<uint64_t>(user) << 32) | seq; }

// Event times are whole milliseconds: what login systems log, and shorter to write.
inline TimestampMicros ToMillis(TimestampMicros t) { return t - ((t % 1000) + 1000) % 1000; }

}  // namespace gyre::datagen
