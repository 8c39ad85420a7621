#include "common/time_format.hpp"

#include <array>
#include <cstdio>

namespace otad {
namespace {

struct CivilTime {
    int64_t year;
    unsigned month;
    unsigned day;
    unsigned hour;
    unsigned minute;
    unsigned second;
    unsigned millis;
};

// Howard Hinnant's days_from_civil / civil_from_days.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilTime ToCivil(int64_t epoch_ms) {
    int64_t days = epoch_ms / 86400000;
    int64_t rem = epoch_ms % 86400000;
    if (rem < 0) {
        rem += 86400000;
        --days;
    }
    const int64_t z = days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const int64_t y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
    const auto r = static_cast<unsigned>(rem);
    return {y, m, d, r / 3600000, (r / 60000) % 60, (r / 1000) % 60, r % 1000};
}

bool IsLeap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned DaysInMonth(int64_t y, unsigned m) {
    static constexpr std::array<unsigned, 12> kDays = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool Digits(std::string_view s, size_t pos, size_t n, unsigned& out) {
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') {
            return false;
        }
        out = out * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return true;
}

void PutDigits(char* at, unsigned value, int n) {
    for (int i = n - 1; i >= 0; --i) {
        at[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

// YYYY-MM-DDThh:mm:ss[.mmm]Z. Written digit by digit: these run for every timestamp of every
// answer and log line, where snprintf's format parsing was a visible cost. Years outside
// 0..9999 keep the general formatter.
std::string FormatCivil(const CivilTime& t, bool with_millis) {
    if (t.year < 0 || t.year > 9999) {
        char buf[48];
        std::snprintf(buf,
                      sizeof buf,
                      with_millis ? "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ"
                                  : "%04lld-%02u-%02uT%02u:%02u:%02uZ",
                      static_cast<long long>(t.year),
                      t.month,
                      t.day,
                      t.hour,
                      t.minute,
                      t.second,
                      t.millis);
        return buf;
    }
    std::string out(with_millis ? 24 : 20, '\0');
    char* p = out.data();
    PutDigits(p, static_cast<unsigned>(t.year), 4);
    p[4] = '-';
    PutDigits(p + 5, t.month, 2);
    p[7] = '-';
    PutDigits(p + 8, t.day, 2);
    p[10] = 'T';
    PutDigits(p + 11, t.hour, 2);
    p[13] = ':';
    PutDigits(p + 14, t.minute, 2);
    p[16] = ':';
    PutDigits(p + 17, t.second, 2);
    if (with_millis) {
        p[19] = '.';
        PutDigits(p + 20, t.millis, 3);
        p[23] = 'Z';
    } else {
        p[19] = 'Z';
    }
    return out;
}

}  // namespace

std::string FormatUtcMs(int64_t epoch_ms) {
    return FormatCivil(ToCivil(epoch_ms), true);
}

std::string FormatUtcSeconds(int64_t epoch_ms) {
    return FormatCivil(ToCivil(epoch_ms), false);
}

std::string FormatUtcMinutes(int64_t epoch_ms) {
    const CivilTime t = ToCivil(epoch_ms);
    char buf[32];
    std::snprintf(buf,
                  sizeof buf,
                  "%04lld-%02u-%02uT%02u:%02uZ",
                  static_cast<long long>(t.year),
                  t.month,
                  t.day,
                  t.hour,
                  t.minute);
    return buf;
}

std::string FormatGmtPlus8(int64_t epoch_ms) {
    const CivilTime t = ToCivil(epoch_ms + 8 * 3600 * 1000);
    char buf[32];
    std::snprintf(buf,
                  sizeof buf,
                  "%04lld-%02u-%02u %02u:%02u:%02u",
                  static_cast<long long>(t.year),
                  t.month,
                  t.day,
                  t.hour,
                  t.minute,
                  t.second);
    return buf;
}

std::optional<int64_t> ParseUtcTimestamp(std::string_view s) {
    // YYYY-MM-DDThh:mm:ss[.f{1,9}]Z
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s.back() != 'Z') {
        return std::nullopt;
    }
    unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    if (!Digits(s, 0, 4, year) || !Digits(s, 5, 2, month) || !Digits(s, 8, 2, day) ||
        !Digits(s, 11, 2, hour) || !Digits(s, 14, 2, minute) || !Digits(s, 17, 2, second)) {
        return std::nullopt;
    }
    unsigned millis = 0;
    if (s.size() != 20) {
        const size_t frac_len = s.size() - 21;
        if (s[19] != '.' || frac_len < 1 || frac_len > 9) {
            return std::nullopt;
        }
        unsigned frac = 0;
        const size_t take = frac_len < 3 ? frac_len : 3;
        if (!Digits(s, 20, take, frac)) {
            return std::nullopt;
        }
        unsigned ignored = 0;
        for (size_t i = 20 + take; i < 20 + frac_len; ++i) {
            if (!Digits(s, i, 1, ignored)) {
                return std::nullopt;
            }
        }
        for (size_t i = take; i < 3; ++i) {
            frac *= 10;
        }
        millis = frac;
    }
    if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23 ||
        minute > 59 || second > 60) {
        return std::nullopt;
    }
    const int64_t days = DaysFromCivil(year, month, day);
    return ((days * 24 + hour) * 60 + minute) * 60000 + static_cast<int64_t>(second) * 1000 +
           millis;
}

}  // namespace otad
