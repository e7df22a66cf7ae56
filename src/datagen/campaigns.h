// Attack campaigns: the planner decides, before any background is generated, every attacker event of the
// window and the victims' recovery events, sized against a fraud-rate budget.
//
//   credential_stuffing  hours long; breached username/password pairs tried once or twice each against
//                        many users from rotating datacenter IPs with scripted user agents and cookie-less
//                        devices; succeeds for users who reuse passwords and have no second factor; some
//                        successes are taken over at once (email changed within minutes).
//   password_spray       days long; a common password tried once per user across many users from a handful
//                        of VPN/hosting IPs, slowly; few successes.
//   account_takeover     a crew with phished credentials: a successful login from a new device in a foreign
//                        country (often via VPN), then within minutes email / phone / password changes and a
//                        new payee, sometimes a promo redemption. The crew reuses devices and the new email,
//                        phone and payee values across victims.
//   takeover_proxy       from the drift: the same, but through residential proxies in the victim's own
//                        country and city, with an ordinary browser user agent.
//   promo_abuse_ring     fake accounts (signups) sharing a few devices and IPs, each redeeming the new-account
//                        and referral promotions with small orders.
//
// Victims notice: their next attempt fails (password changed) or they see the change, and they reset the
// password from their own device (recovery events, legit). Between the takeover and the recovery the
// background generator leaves the victim silent (CompromiseWindow).
//
// Not thread-safe; deterministic for (options, population).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "datagen/ato.h"
#include "datagen/background.h"
#include "datagen/event.h"
#include "datagen/population.h"

namespace gyre::datagen {

struct Campaign {
  uint32_t id = 0;  // 1-based, in planning order
  CampaignType type = CampaignType::kCredentialStuffing;
  TimestampMicros start = 0, end = 0;  // first and last attacker event
  bool after_drift = false;
  int64_t target_users = 0;  // distinct users (for rings: accounts created)
  int64_t fraud_events = 0;
  int64_t successful_logins = 0;
  int64_t takeovers = 0;  // accounts whose profile the attacker changed
  int64_t recovery_events = 0;
  int64_t devices = 0, ips = 0;  // distinct
  std::vector<uint32_t> asns;    // distinct, in first-use order
  std::vector<uint8_t> countries;
  std::vector<uint16_t> user_agents;
  std::string description;
};

struct CampaignPlan {
  std::vector<Campaign> campaigns;
  std::vector<Event> events;  // attacker and recovery events, sorted by (time, key), all inside the window
  std::vector<CompromiseWindow> windows;
  int64_t fraud_budget = 0;  // events the planner aimed for
};

// Plans every campaign for the window. Appends ring accounts to `population`. `expected_background` is
// BackgroundGenerator::ExpectedEvents for the same population.
CampaignPlan PlanCampaigns(const AtoOptions& options, Population* population, double expected_background);

}  // namespace gyre::datagen
