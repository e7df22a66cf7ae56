#include "datagen/world.h"

#include <string_view>

namespace gyre::datagen {
namespace {

constexpr uint32_t Ip(uint32_t a, uint32_t b, uint32_t c = 0, uint32_t d = 0) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// Residential blocks are large (a home's address is close to unique); mobile carriers put many
// subscribers behind small CGNAT pools, which is why "distinct users per IP" is noisy for legit traffic.
constexpr uint32_t kResidentialBlock = 1u << 20;
constexpr uint32_t kMobilePool = 2048;
constexpr uint32_t kHostingBlock = 1u << 16;

}  // namespace

WorldTables BuildWorld() {
  WorldTables w;
  auto country = [&](std::string_view code, int offset_min, double market, double travel, std::vector<City> cities) {
    w.countries.push_back({code, offset_min, market, travel, std::move(cities), {}, {}});
    return static_cast<int>(w.countries.size() - 1);
  };
  auto net = [&](int c, uint32_t asn, std::string_view name, NetKind kind, uint32_t base, int city = 0) {
    uint32_t size = kind == NetKind::kResidential ? kResidentialBlock
                    : kind == NetKind::kMobile    ? kMobilePool
                                                  : kHostingBlock;
    w.networks.push_back({asn, name, kind, base, size, static_cast<uint8_t>(c), static_cast<uint8_t>(city)});
    int index = static_cast<int>(w.networks.size() - 1);
    if (kind == NetKind::kResidential) w.countries[c].residential.push_back(index);
    if (kind == NetKind::kMobile) w.countries[c].mobile.push_back(index);
    return index;
  };
  using K = NetKind;

  // Markets. A weight-0 city is a datacenter town: never a home, only where hosting IPs geolocate.
  int us = country("US", -300, 30, 6,
                   {{"New York", 40.7128, -74.0060, 5},
                    {"Los Angeles", 34.0522, -118.2437, 4},
                    {"Chicago", 41.8781, -87.6298, 3},
                    {"Houston", 29.7604, -95.3698, 3},
                    {"Seattle", 47.6062, -122.3321, 2},
                    {"Ashburn", 39.0438, -77.4874, 0},
                    {"Piscataway", 40.5549, -74.4643, 0}});
  net(us, 7922, "Comcast", K::kResidential, Ip(73, 0));
  net(us, 20115, "Charter", K::kResidential, Ip(97, 80));
  net(us, 7018, "AT&T", K::kResidential, Ip(99, 16));
  net(us, 22394, "Verizon Wireless", K::kMobile, Ip(174, 192, 16));
  net(us, 21928, "T-Mobile USA", K::kMobile, Ip(172, 56, 32));
  int gb = country(
      "GB", 0, 12, 6,
      {{"London", 51.5074, -0.1278, 5}, {"Manchester", 53.4808, -2.2426, 2}, {"Birmingham", 52.4862, -1.8904, 2}});
  net(gb, 2856, "BT", K::kResidential, Ip(86, 128));
  net(gb, 5089, "Virgin Media", K::kResidential, Ip(82, 0));
  net(gb, 25135, "Vodafone UK", K::kMobile, Ip(92, 40, 8));
  net(gb, 12576, "EE", K::kMobile, Ip(31, 94, 64));
  int de = country("DE", 60, 10, 4,
                   {{"Berlin", 52.5200, 13.4050, 3},
                    {"Munich", 48.1351, 11.5820, 2},
                    {"Hamburg", 53.5511, 9.9937, 2},
                    {"Falkenstein", 50.4779, 12.3713, 0},
                    {"Nuremberg", 49.4521, 11.0767, 0}});
  net(de, 3320, "Deutsche Telekom", K::kResidential, Ip(79, 192));
  net(de, 3209, "Vodafone DE", K::kResidential, Ip(88, 64));
  net(de, 6805, "Telefonica DE", K::kMobile, Ip(176, 0, 40));
  int fr = country("FR", 60, 8, 6,
                   {{"Paris", 48.8566, 2.3522, 4},
                    {"Lyon", 45.7640, 4.8357, 2},
                    {"Marseille", 43.2965, 5.3698, 2},
                    {"Roubaix", 50.6942, 3.1746, 0}});
  net(fr, 3215, "Orange", K::kResidential, Ip(90, 0));
  net(fr, 12322, "Free", K::kResidential, Ip(78, 192));
  net(fr, 5410, "Bouygues Telecom", K::kMobile, Ip(37, 160, 24));
  int es = country("ES", 60, 6, 7, {{"Madrid", 40.4168, -3.7038, 3}, {"Barcelona", 41.3874, 2.1686, 3}});
  net(es, 3352, "Telefonica de Espana", K::kResidential, Ip(83, 32));
  net(es, 12430, "Vodafone ES", K::kMobile, Ip(37, 10, 8));
  int it = country("IT", 60, 5, 6, {{"Rome", 41.9028, 12.4964, 3}, {"Milan", 45.4642, 9.1900, 3}});
  net(it, 3269, "Telecom Italia", K::kResidential, Ip(79, 0));
  net(it, 1267, "Wind Tre", K::kMobile, Ip(151, 18, 12));
  int nl = country("NL", 60, 4, 3, {{"Amsterdam", 52.3676, 4.9041, 3}, {"Rotterdam", 51.9244, 4.4777, 2}});
  net(nl, 1136, "KPN", K::kResidential, Ip(77, 160));
  net(nl, 33915, "Ziggo", K::kResidential, Ip(84, 80));
  net(nl, 31615, "Odido", K::kMobile, Ip(62, 140, 4));
  int ca = country(
      "CA", -300, 6, 3,
      {{"Toronto", 43.6532, -79.3832, 4}, {"Vancouver", 49.2827, -123.1207, 2}, {"Montreal", 45.5017, -73.5673, 2}});
  net(ca, 812, "Rogers", K::kResidential, Ip(99, 224));
  net(ca, 577, "Bell Canada", K::kResidential, Ip(70, 48));
  net(ca, 852, "Telus", K::kMobile, Ip(154, 20, 16));
  int au = country("AU", 600, 4, 2, {{"Sydney", -33.8688, 151.2093, 3}, {"Melbourne", -37.8136, 144.9631, 3}});
  net(au, 1221, "Telstra", K::kResidential, Ip(101, 160));
  net(au, 4804, "Optus", K::kMobile, Ip(49, 176, 20));
  int in =
      country("IN", 330, 6, 2,
              {{"Mumbai", 19.0760, 72.8777, 3}, {"Delhi", 28.7041, 77.1025, 3}, {"Bangalore", 12.9716, 77.5946, 2}});
  net(in, 9829, "BSNL", K::kResidential, Ip(117, 192));
  net(in, 55836, "Reliance Jio", K::kMobile, Ip(49, 32, 8));
  net(in, 24560, "Airtel", K::kMobile, Ip(122, 160, 40));
  int mx = country("MX", -360, 5, 3, {{"Mexico City", 19.4326, -99.1332, 4}, {"Guadalajara", 20.6597, -103.3496, 2}});
  net(mx, 8151, "Telmex", K::kResidential, Ip(187, 128));
  net(mx, 28403, "Telcel", K::kMobile, Ip(200, 68, 4));
  int pl = country("PL", 60, 3, 2, {{"Warsaw", 52.2297, 21.0122, 3}, {"Krakow", 50.0647, 19.9450, 2}});
  net(pl, 5617, "Orange Polska", K::kResidential, Ip(83, 0));
  net(pl, 39603, "Play", K::kMobile, Ip(37, 47, 8));

  // The market that opens at the drift: no users, no travel, no attacks there before it.
  int br = country("BR", -180, 0, 0, {{"Sao Paulo", -23.5505, -46.6333, 4}, {"Rio de Janeiro", -22.9068, -43.1729, 3}});
  net(br, 26599, "Vivo", K::kResidential, Ip(177, 32));
  net(br, 7738, "Oi", K::kResidential, Ip(189, 0));
  net(br, 28573, "Claro BR", K::kMobile, Ip(179, 96, 8));
  w.new_market = br;

  // Not markets: where crews operate from, and a few holiday destinations.
  int ng = country("NG", 60, 0, 0.2, {{"Lagos", 6.5244, 3.3792, 3}, {"Abuja", 9.0765, 7.3986, 1}});
  net(ng, 29465, "MTN Nigeria", K::kMobile, Ip(102, 88, 4));
  net(ng, 36873, "Airtel Nigeria", K::kResidential, Ip(105, 112));
  int ro = country("RO", 120, 0, 0.5, {{"Bucharest", 44.4268, 26.1025, 3}});
  net(ro, 8708, "RCS & RDS", K::kResidential, Ip(86, 104));
  int vn = country("VN", 420, 0, 0.8, {{"Hanoi", 21.0278, 105.8342, 2}, {"Ho Chi Minh City", 10.8231, 106.6297, 2}});
  net(vn, 7552, "Viettel", K::kMobile, Ip(27, 64, 8));
  net(vn, 45899, "VNPT", K::kResidential, Ip(113, 160));
  int id = country("ID", 420, 0, 0.8, {{"Jakarta", -6.2088, 106.8456, 3}});
  net(id, 23693, "Telkomsel", K::kMobile, Ip(114, 124, 4));
  net(id, 7713, "Telkom Indonesia", K::kResidential, Ip(36, 64));
  int ru = country("RU", 180, 0, 0.2, {{"Moscow", 55.7558, 37.6173, 3}, {"Saint Petersburg", 59.9311, 30.3609, 1}});
  net(ru, 12389, "Rostelecom", K::kResidential, Ip(95, 24));
  net(ru, 8359, "MTS", K::kMobile, Ip(213, 87, 4));
  int sg = country("SG", 480, 0, 1, {{"Singapore", 1.3521, 103.8198, 1}});
  net(sg, 7473, "Singtel", K::kResidential, Ip(116, 12));
  int th = country("TH", 420, 0, 1.5, {{"Bangkok", 13.7563, 100.5018, 3}, {"Phuket", 7.8804, 98.3923, 1}});
  net(th, 7470, "True Internet", K::kResidential, Ip(171, 96));
  net(th, 45458, "AIS", K::kMobile, Ip(49, 228, 8));
  w.attacker_countries = {ng, ro, vn, id, ru};

  // Datacenters (scripted attacks) and VPN exits (attackers and privacy-minded customers alike).
  w.hosting = {net(us, 16509, "Amazon AWS", K::kHosting, Ip(3, 80), 5),
               net(us, 14061, "DigitalOcean", K::kHosting, Ip(159, 203), 0),
               net(de, 24940, "Hetzner", K::kHosting, Ip(88, 198), 3),
               net(fr, 16276, "OVH", K::kHosting, Ip(51, 75), 3),
               net(us, 20473, "Vultr", K::kHosting, Ip(45, 76), 6),
               net(sg, 45102, "Alibaba Cloud", K::kHosting, Ip(47, 74), 0),
               net(ru, 49505, "Selectel", K::kHosting, Ip(31, 184), 1),
               net(de, 51167, "Contabo", K::kHosting, Ip(161, 97), 4)};
  w.vpn = {net(gb, 60068, "DataCamp (CDN77)", K::kHosting, Ip(185, 59), 0),
           net(nl, 9009, "M247", K::kHosting, Ip(89, 238), 0),
           net(us, 62240, "Clouvider", K::kHosting, Ip(193, 29), 0)};

  auto ua = [&](std::string_view text, DeviceType type, double weight) {
    w.user_agents.push_back({text, type, weight});
    return static_cast<int>(w.user_agents.size() - 1);
  };
  using D = DeviceType;
  w.desktop_uas = {
      ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
         "Safari/537.36",
         D::kDesktop, 5),
      ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 "
         "Safari/537.36 Edg/121.0.0.0",
         D::kDesktop, 2),
      ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", D::kDesktop, 1),
      ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
         "Safari/605.1.15",
         D::kDesktop, 2),
      ua("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
         "Safari/537.36",
         D::kDesktop, 2),
      ua("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
         D::kDesktop, 0.4)};
  w.mobile_web_uas = {ua("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
                         "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
                         D::kMobileWeb, 3),
                      ua("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0.6099.144 Mobile Safari/537.36",
                         D::kMobileWeb, 1),
                      ua("Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
                         "Chrome/120.0.6099.144 Mobile Safari/537.36",
                         D::kMobileWeb, 2)};
  w.ios_app_uas = {ua("GyreBank/4.12.1 (iPhone15,2; iOS 17.2; Scale/3.00)", D::kAppIos, 3),
                   ua("GyreBank/4.11.0 (iPhone13,3; iOS 16.7; Scale/3.00)", D::kAppIos, 1)};
  w.android_app_uas = {ua("GyreBank/4.12.1 (Android 14; Pixel 8; okhttp/4.12.0)", D::kAppAndroid, 2),
                       ua("GyreBank/4.11.0 (Android 13; SM-S918B; okhttp/4.11.0)", D::kAppAndroid, 2)};
  w.new_ios_app_ua = ua("GyreBank/5.0.0 (iPhone15,2; iOS 17.3; Scale/3.00)", D::kAppIos, 0);
  w.new_android_app_ua = ua("GyreBank/5.0.0 (Android 14; Pixel 8; okhttp/4.12.0)", D::kAppAndroid, 0);
  w.scripted_uas = {ua("python-requests/2.31.0", D::kDesktop, 0), ua("Go-http-client/1.1", D::kDesktop, 0),
                    ua("curl/8.4.0", D::kDesktop, 0), ua("okhttp/4.9.0", D::kAppAndroid, 0),
                    ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "HeadlessChrome/119.0.0.0 Safari/537.36",
                       D::kDesktop, 0)};
  w.spoofed_uas = {ua("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/91.0.4472.124 Safari/537.36",
                      D::kDesktop, 0),
                   ua("Mozilla/5.0 (Linux; Android 11; sdk_gphone_x86) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/83.0.4103.106 Mobile Safari/537.36",
                      D::kMobileWeb, 0),
                   ua("Mozilla/5.0 (iPhone; CPU iPhone OS 15_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                      "Version/15.6 Mobile/15E148 Safari/604.1",
                      D::kMobileWeb, 0)};

  w.promos = {{"WELCOME10", 1000, true, 0.0, 1.0, 0}, {"REFER20", 2000, true, 0.0, 1.0, 0},
              {"CASHBACK5", 500, false, 0.0, 1.0, 4}, {"SPRING15", 1500, false, 0.3, 0.7, 2},
              {"FLASH50", 5000, false, 0.5, 0.55, 3}, {"VIP25", 2500, false, 0.8, 1.0, 1}};
  w.welcome_promo = 0;
  w.referral_promo = 1;
  return w;
}

}  // namespace gyre::datagen
