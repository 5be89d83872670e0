// Seeded generator of the data-validation benchmark's files: ROWS rows of 20 columns (numeric,
// integer, category, boolean, email-like string, datetime, a nullable column, one unique id),
// as CSV or as JSON lines with the same values. Every value meets the schema of bench/data.
//
//   bench_data_gen csv|jsonl ROWS OUT [SEED]
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

struct Rng {
    uint64_t s;
    uint64_t next() {  // splitmix64
        uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t n) { return next() % n; }
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

const char* const k_plans[] = {"basic", "pro", "enterprise"};
const char* const k_regions[] = {"north", "south", "east", "west"};
const char* const k_devices[] = {"ios", "android", "web"};
const char* const k_countries[] = {"de", "fr", "us", "uk", "jp", "br", "in", "ng", "au", "ca"};
const char* const k_names[] = {"anna", "ben", "carla", "dev", "emre", "fatima", "gus", "hana"};

// Civil date from days since 1970-01-01 (Howard Hinnant's civil_from_days).
void civil(int64_t z, int& y, unsigned& m, unsigned& d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y = static_cast<int>(yoe) + static_cast<int>(era) * 400 + (m <= 2);
}

void datetime(char* out, uint64_t seconds) {
    int y = 0;
    unsigned m = 0, d = 0;
    civil(static_cast<int64_t>(seconds / 86400), y, m, d);
    const uint64_t s = seconds % 86400;
    std::snprintf(out, 32, "%04d-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
                  static_cast<unsigned>(s / 3600), static_cast<unsigned>(s / 60 % 60),
                  static_cast<unsigned>(s % 60));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: bench_data_gen csv|jsonl ROWS OUT [SEED]\n");
        return 2;
    }
    const bool json = std::strcmp(argv[1], "jsonl") == 0;
    const uint64_t rows = std::strtoull(argv[2], nullptr, 10);
    FILE* f = std::fopen(argv[3], "wb");
    if (f == nullptr) {
        std::perror(argv[3]);
        return 1;
    }
    static char buffer[1 << 20];
    std::setvbuf(f, buffer, _IOFBF, sizeof buffer);
    Rng rng{argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 20240601};
    if (!json) {
        std::fputs(
            "id,age,score,amount,visits,plan,region,active,email,signup,discount,tenure,device,"
            "churned,rating,balance,sessions,country,last_seen,ratio\n",
            f);
    }
    char signup[32], seen[32], discount[32];
    for (uint64_t i = 0; i < rows; ++i) {
        const unsigned age = 18 + static_cast<unsigned>(rng.below(73));
        const double score = rng.unit() * 100;
        const double amount = rng.unit() * 5000;
        const unsigned visits = static_cast<unsigned>(rng.below(1000));
        const char* plan = k_plans[rng.below(3)];
        const char* region = k_regions[rng.below(4)];
        const bool active = rng.below(2) != 0;
        const char* name = k_names[rng.below(8)];
        const unsigned num = static_cast<unsigned>(rng.below(100000));
        datetime(signup, 1546300800 + rng.below(6 * 365 * 86400ULL));
        const bool has_discount = rng.below(10) != 0;  // 10% null
        std::snprintf(discount, sizeof discount, "%.2f", rng.unit() * 50);
        const unsigned tenure = static_cast<unsigned>(rng.below(121));
        const char* device = k_devices[rng.below(3)];
        const bool churned = rng.below(4) == 0;
        const unsigned rating = 1 + static_cast<unsigned>(rng.below(5));
        const double balance = (rng.unit() - 0.3) * 10000;
        const unsigned sessions = static_cast<unsigned>(rng.below(50000));
        const char* country = k_countries[rng.below(10)];
        datetime(seen, 1672531200 + rng.below(2 * 365 * 86400ULL));
        const double ratio = rng.unit();
        if (json) {
            std::fprintf(f,
                         "{\"id\":\"u%010" PRIu64
                         "\",\"age\":%u,\"score\":%.3f,\"amount\":%.2f,\"visits\":%u,"
                         "\"plan\":\"%s\",\"region\":\"%s\",\"active\":%s,"
                         "\"email\":\"%s.%u@example.com\",\"signup\":\"%s\",\"discount\":%s,"
                         "\"tenure\":%u,\"device\":\"%s\",\"churned\":%s,\"rating\":%u,"
                         "\"balance\":%.2f,\"sessions\":%u,\"country\":\"%s\","
                         "\"last_seen\":\"%s\",\"ratio\":%.4f}\n",
                         i, age, score, amount, visits, plan, region, active ? "true" : "false",
                         name, num, signup, has_discount ? discount : "null", tenure, device,
                         churned ? "true" : "false", rating, balance, sessions, country, seen,
                         ratio);
        } else {
            std::fprintf(f,
                         "u%010" PRIu64
                         ",%u,%.3f,%.2f,%u,%s,%s,%s,%s.%u@example.com,%s,%s,%u,%s,%s,%u,%.2f,%u,"
                         "%s,%s,%.4f\n",
                         i, age, score, amount, visits, plan, region, active ? "true" : "false",
                         name, num, signup, has_discount ? discount : "", tenure, device,
                         churned ? "true" : "false", rating, balance, sessions, country, seen,
                         ratio);
        }
    }
    if (std::fclose(f) != 0) {
        std::perror(argv[3]);
        return 1;
    }
    return 0;
}
