// features' definitions (features.yaml): entities, sources, groups with aggregations, windows and filter
// expressions, derived features, feature sets and labels. Any text is loaded or refused with a located
// error; never a crash. Sources with a path read it relative to a scratch folder holding small CSV files
// with the columns of examples/ato's sources, so the example itself loads.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "features/definitions.h"

namespace {

std::string g_base_dir;

void WriteFile(const std::string& path, const char* text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fputs(text, f);
  std::fclose(f);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char dir[] = "/tmp/gyre-features-fuzz.XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  g_base_dir = dir;
  std::string data = g_base_dir + "/data";
  if (mkdir(data.c_str(), 0700) != 0) std::abort();
  WriteFile(data + "/logins.csv",
            "event_id,time,user_id,device_id,ip,asn,country,lat,lon,user_agent,success,mfa\n"
            "1,2024-01-01T00:00:00Z,u1,d1,10.0.0.1,64500,DE,52.5,13.4,ua,true,false\n");
  WriteFile(data + "/account_events.csv",
            "event_id,time,user_id,device_id,ip,asn,country,event_type,new_value_hash\n"
            "2,2024-01-01T00:00:01Z,u1,d1,10.0.0.1,64500,DE,password_change,abc\n");
  WriteFile(data + "/promo_redemptions.csv",
            "event_id,time,user_id,device_id,ip,asn,country,promo_code,amount,order_amount\n"
            "3,2024-01-01T00:00:02Z,u1,d1,10.0.0.1,64500,DE,P1,5.0,20.0\n");
  WriteFile(data + "/labels.csv",
            "event_id,event_kind,event_time,label,label_source,labeled_at\n"
            "1,login,2024-01-01T00:00:00Z,0,chargeback,2024-01-02T00:00:00Z\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string yaml(reinterpret_cast<const char*>(data), size);
  auto registry = gyre::features::FeatureRegistry::Parse(yaml, "features.yaml", g_base_dir);
  if (registry.ok()) {
    for (const auto& f : registry->features()) (void)registry->FindFeature(f.name);
  }
  return 0;
}
