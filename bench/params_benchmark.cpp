// Decoding the parameters of a ListOTAJobByDevice request.

#include "rpc/params/params.hpp"

#include <benchmark/benchmark.h>

#include <string>

namespace otad::bench {
namespace {

// The query of the Node SDK's V3 request: only the action's own parameters.
constexpr std::string_view kV3Query =
    "CurrentPage=1&DeviceName=3f1c2ab7e4d9&FirmwareId=Xq3Jb8LmNp2Rs5Tv7Wy9030100&PageSize=10&"
    "ProductKey=a1Bc3De5Fg7";

// The query of pop-core's V1 GET: the action's parameters plus the common ones.
constexpr std::string_view kV1Query =
    "AccessKeyId=LTAIbenchAccessKey0001&Action=ListOTAJobByDevice&CurrentPage=1&"
    "DeviceName=3f1c2ab7e4d9&FirmwareId=Xq3Jb8LmNp2Rs5Tv7Wy9030100&Format=JSON&PageSize=10&"
    "ProductKey=a1Bc3De5Fg7&SignatureMethod=HMAC-SHA1&"
    "SignatureNonce=8a4f0c1e2b3d4f5a6b7c8d9e0f1a2b3c&SignatureVersion=1.0&"
    "Timestamp=2024-05-20T08%3A30%3A00Z&Version=2018-01-20&"
    "Signature=Ojg0D8w19E%2B3LF3PfOiFjmzSBDM%3D";

void Decode(benchmark::State& state, std::string_view query) {
    const rpc::ParamLimits limits;
    for (auto _ : state) {
        auto params = rpc::ParamMap::FromRequest(query, nullptr, "", limits);
        if (!params.ok()) {
            state.SkipWithError("decoding failed");
            break;
        }
        benchmark::DoNotOptimize(params);
    }
    state.SetItemsProcessed(state.iterations());
}

void BM_ParamMapFromRequestV3Query(benchmark::State& state) {
    Decode(state, kV3Query);
}
BENCHMARK(BM_ParamMapFromRequestV3Query);

void BM_ParamMapFromRequestV1Query(benchmark::State& state) {
    Decode(state, kV1Query);
}
BENCHMARK(BM_ParamMapFromRequestV1Query);

}  // namespace
}  // namespace otad::bench
