#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

// A log-bucketed latency histogram in the manner of HdrHistogram: values below 256 are counted
// exactly; above that every power of two is split into 128 equal buckets, so a reported value is
// within 0.4% of the true one (half a bucket of at most 1/128). Fixed size (about 36 KiB), no
// allocation while recording; one per thread, merged at the end.

namespace otad::bench {

class LatencyHistogram {
  public:
    static constexpr int kSubBits = 7;  // 128 buckets per power of two
    static constexpr int kMaxExponent = 40;
    static constexpr size_t kExact = size_t{2} << kSubBits;  // 256 values counted exactly
    static constexpr size_t kBuckets =
        kExact + static_cast<size_t>(kMaxExponent - kSubBits) * (size_t{1} << kSubBits);

    void Record(uint64_t value) {
        counts_[Index(value)]++;
        ++count_;
        sum_ += static_cast<double>(value);
        max_ = std::max(max_, value);
        min_ = std::min(min_, value);
    }

    void Merge(const LatencyHistogram& other) {
        for (size_t i = 0; i < kBuckets; ++i) {
            counts_[i] += other.counts_[i];
        }
        count_ += other.count_;
        sum_ += other.sum_;
        max_ = std::max(max_, other.max_);
        min_ = std::min(min_, other.min_);
    }

    uint64_t Count() const { return count_; }
    uint64_t Max() const { return count_ == 0 ? 0 : max_; }
    uint64_t Min() const { return count_ == 0 ? 0 : min_; }
    double Mean() const { return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_); }

    /// The value below or at which a fraction `q` (0..1) of the recorded values lie: the middle
    /// of the bucket holding the ceil(q * count)-th smallest value, capped at the exact maximum.
    uint64_t Percentile(double q) const {
        if (count_ == 0) {
            return 0;
        }
        const auto rank = std::max<uint64_t>(
            1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
        uint64_t seen = 0;
        for (size_t i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (seen >= rank) {
                const uint64_t lo = LowerBound(i);
                const uint64_t width = LowerBound(i + 1) - lo;
                return std::min(lo + width / 2, max_);
            }
        }
        return max_;
    }

    static size_t Index(uint64_t value) {
        if (value < kExact) {
            return static_cast<size_t>(value);
        }
        const int exponent = std::bit_width(value) - 1;  // >= kSubBits + 1
        if (exponent >= kMaxExponent) {
            return kBuckets - 1;
        }
        const int shift = exponent - kSubBits;
        const uint64_t sub = (value >> shift) - (uint64_t{1} << kSubBits);  // 0..127
        return kExact + static_cast<size_t>(exponent - kSubBits - 1) * (size_t{1} << kSubBits) +
               static_cast<size_t>(sub);
    }

    static uint64_t LowerBound(size_t index) {
        if (index < kExact) {
            return index;
        }
        const size_t rel = index - kExact;
        const int exponent = static_cast<int>(rel >> kSubBits) + kSubBits + 1;
        const uint64_t sub = rel & ((size_t{1} << kSubBits) - 1);
        return ((uint64_t{1} << kSubBits) + sub) << (exponent - kSubBits);
    }

  private:
    std::array<uint64_t, kBuckets> counts_{};
    uint64_t count_ = 0;
    double sum_ = 0;
    uint64_t max_ = 0;
    uint64_t min_ = std::numeric_limits<uint64_t>::max();
};

}  // namespace otad::bench
