// Authentication of one request: the whole Verifier::Verify path (V1 and V3) with a fixed clock,
// plus the client-side V3 signing for comparison.

#include "common/clock.hpp"
#include "common/time_format.hpp"
#include "rng.hpp"
#include "rpc/params/params.hpp"
#include "rpc/signature/nonce_cache.hpp"
#include "rpc/signature/verifier.hpp"
#include "signed_request.hpp"

#include <benchmark/benchmark.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace otad::bench {
namespace {

constexpr int64_t kNowMs = 1716193800000;  // 2024-05-20T08:30:00Z
constexpr size_t kPool = 4096;

ListJobsCall Call(Rng& rng) {
    ListJobsCall c;
    c.host = "127.0.0.1:8080";
    c.access_key_id = "LTAIbenchAccessKey0001";
    c.access_key_secret = "benchAccessKeySecret0000000001";
    c.product_key = "a1" + rng.Base62(9);
    c.device_name = rng.Hex(12);
    c.firmware_id = rng.Base62(20) + "030100";
    c.date = FormatUtcSeconds(kNowMs);
    c.nonce = rng.Hex(32);
    return c;
}

// Requests differing in their nonce (and parameters), each with its decoded parameters, so that
// the measured loop does nothing but verify. A nonce may be used once per cache: when the pool is
// used up the cache is replaced outside the timed region.
struct SignedPool {
    std::vector<HttpRequest> requests;
    std::vector<rpc::ParamMap> params;
};

SignedPool MakePool(bool v3) {
    SignedPool pool;
    Rng rng(7);
    for (size_t i = 0; i < kPool; ++i) {
        const ListJobsCall c = Call(rng);
        pool.requests.push_back(v3 ? MakeV3ListJobsRequest(c) : MakeV1ListJobsRequest(c));
        const HttpRequest& req = pool.requests.back();
        auto params = rpc::ParamMap::FromRequest(
            req.Query(), req.FindHeader("content-type"), req.body, rpc::ParamLimits{});
        pool.params.push_back(std::move(params).value());
    }
    return pool;
}

void VerifyLoop(benchmark::State& state, const SignedPool& pool) {
    const ManualClock clock(kNowMs);
    const rpc::SecretLookup lookup = [](std::string_view) -> Result<std::optional<rpc::KeyInfo>> {
        return std::optional<rpc::KeyInfo>(rpc::KeyInfo{"benchAccessKeySecret0000000001", true});
    };
    rpc::NonceCacheOptions sizing;
    sizing.max_entries = kPool * 4;  // room for a whole pool in every shard's share
    auto nonces = std::make_unique<rpc::NonceCache>(sizing);
    auto verifier = std::make_unique<rpc::Verifier>(clock, *nonces);
    size_t i = 0;
    for (auto _ : state) {
        if (i == kPool) {
            state.PauseTiming();
            verifier.reset();
            nonces = std::make_unique<rpc::NonceCache>(sizing);
            verifier = std::make_unique<rpc::Verifier>(clock, *nonces);
            i = 0;
            state.ResumeTiming();
        }
        auto outcome = verifier->Verify(pool.requests[i], pool.params[i], lookup);
        if (!outcome.ok()) {
            state.SkipWithError("verification failed");
            break;
        }
        benchmark::DoNotOptimize(outcome);
        ++i;
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_VerifyV3(benchmark::State& state) {
    static const SignedPool pool = MakePool(true);
    VerifyLoop(state, pool);
}
BENCHMARK(BM_VerifyV3);

void BM_VerifyV1(benchmark::State& state) {
    static const SignedPool pool = MakePool(false);
    VerifyLoop(state, pool);
}
BENCHMARK(BM_VerifyV1);

// What a client spends signing one V3 request (and what otad-load spends per request).
void BM_SignV3(benchmark::State& state) {
    Rng rng(9);
    ListJobsCall c = Call(rng);
    for (auto _ : state) {
        c.nonce = rng.Hex(32);
        HttpRequest req = MakeV3ListJobsRequest(c);
        benchmark::DoNotOptimize(req);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignV3);

}  // namespace
}  // namespace otad::bench
