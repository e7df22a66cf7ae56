#include "datagen/event.h"

namespace gyre::datagen {

std::string_view AccountEventTypeName(AccountEventType type) {
  switch (type) {
    case AccountEventType::kSignup: return "signup";
    case AccountEventType::kPasswordChange: return "password_change";
    case AccountEventType::kEmailChange: return "email_change";
    case AccountEventType::kPhoneChange: return "phone_change";
    case AccountEventType::kPayeeAdded: return "payee_added";
    case AccountEventType::kAddressChange: return "address_change";
    case AccountEventType::kMfaEnabled: return "mfa_enabled";
  }
  return "unknown";
}

std::string_view LabelSourceName(LabelSource source) {
  switch (source) {
    case LabelSource::kNone: return "none";
    case LabelSource::kAnalyst: return "analyst";
    case LabelSource::kCustomerReport: return "customer_report";
    case LabelSource::kChargeback: return "chargeback";
  }
  return "unknown";
}

std::string_view CampaignTypeName(CampaignType type) {
  switch (type) {
    case CampaignType::kCredentialStuffing: return "credential_stuffing";
    case CampaignType::kPasswordSpray: return "password_spray";
    case CampaignType::kAccountTakeover: return "account_takeover";
    case CampaignType::kTakeoverProxy: return "takeover_proxy";
    case CampaignType::kPromoAbuseRing: return "promo_abuse_ring";
  }
  return "unknown";
}

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kLogin: return "login";
    case EventKind::kAccount: return "account_event";
    case EventKind::kPromo: return "promo_redemption";
  }
  return "unknown";
}

}  // namespace gyre::datagen
