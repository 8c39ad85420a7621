#include "rpc/throttle.hpp"

#include <gtest/gtest.h>

namespace otad::rpc {
namespace {

TEST(Throttle, AllowsOneSecondOfCallsThenRefills) {
    Throttle t;
    int64_t now = 1'000'000;
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(t.Acquire(1, 0, 10, now), 0) << i;
    }
    const int64_t wait = t.Acquire(1, 0, 10, now);
    EXPECT_GT(wait, 0);
    EXPECT_LE(wait, 100);
    now += 100;
    EXPECT_EQ(t.Acquire(1, 0, 10, now), 0);
    EXPECT_GT(t.Acquire(1, 0, 10, now), 0);
}

TEST(Throttle, CountsAccountsAndActionsSeparately) {
    Throttle t;
    const int64_t now = 5'000;
    EXPECT_EQ(t.Acquire(1, 0, 1, now), 0);
    EXPECT_GT(t.Acquire(1, 0, 1, now), 0);
    EXPECT_EQ(t.Acquire(2, 0, 1, now), 0);
    EXPECT_EQ(t.Acquire(1, 1, 1, now), 0);
}

TEST(Throttle, ZeroMeansUnlimited) {
    Throttle t;
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(t.Acquire(1, 0, 0, 0), 0);
    }
}

TEST(Throttle, SustainedRateMatchesTheLimit) {
    Throttle t;
    int allowed = 0;
    // 10 seconds of attempts every millisecond at 10/s: a burst of 10 plus 10 a second.
    for (int64_t ms = 0; ms < 10'000; ++ms) {
        if (t.Acquire(7, 3, 10, ms) == 0) {
            ++allowed;
        }
    }
    EXPECT_GE(allowed, 100);
    EXPECT_LE(allowed, 111);
}

}  // namespace
}  // namespace otad::rpc
