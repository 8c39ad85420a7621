#pragma once

#include <cstdint>
#include <string>

// A small, fast, seedable generator (xoshiro256** seeded through splitmix64), so that a fleet or
// a load pattern is the same for the same seed on every machine.

namespace otad::bench {

class Rng {
  public:
    explicit Rng(uint64_t seed) {
        for (uint64_t& word : s_) {
            seed += 0x9e3779b97f4a7c15ULL;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            word = z ^ (z >> 31);
        }
    }

    uint64_t Next() {
        const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = Rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, n); n > 0. The tiny modulo bias is irrelevant here.
    uint64_t Below(uint64_t n) { return Next() % n; }

    /// Uniform in [0, 1).
    double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

    /// `n` characters from [A-Za-z0-9].
    std::string Base62(size_t n) {
        static constexpr char kAlphabet[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        std::string out(n, '\0');
        for (char& c : out) {
            c = kAlphabet[Below(62)];
        }
        return out;
    }

    /// `n` lower-case hex digits.
    std::string Hex(size_t n) {
        static constexpr char kDigits[] = "0123456789abcdef";
        std::string out(n, '\0');
        uint64_t bits = 0;
        for (size_t i = 0; i < n; ++i) {
            if (i % 16 == 0) {
                bits = Next();
            }
            out[i] = kDigits[bits & 0xf];
            bits >>= 4;
        }
        return out;
    }

  private:
    static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    uint64_t s_[4];
};

}  // namespace otad::bench
