// Rendering a ListOTAJobByDevice answer of ten jobs, as the action writes it.

#include "domain/model.hpp"
#include "rng.hpp"
#include "rpc/actions/action.hpp"
#include "rpc/render/writer.hpp"

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

namespace otad::bench {
namespace {

std::vector<domain::Job> TenJobs() {
    Rng rng(3);
    std::vector<domain::Job> jobs;
    for (int i = 0; i < 10; ++i) {
        domain::Job job;
        job.job_id = rng.Base62(20) + "020200";
        job.firmware_id = "Xq3Jb8LmNp2Rs5Tv7Wy9030100";
        job.product_key = "a1Bc3De5Fg7";
        job.job_status = i < 8 ? domain::JobStatus::kCompleted : domain::JobStatus::kInProgress;
        job.target_selection =
            i % 2 ? domain::TargetSelection::kGray : domain::TargetSelection::kAll;
        job.tags = {{"env", "prod"}, {"wave", std::to_string(i)}};
        job.created_ms = 1'700'000'000'000 + i * 86'400'000LL;
        job.modified_ms = job.created_ms + 3'600'000;
        job.start_ms = job.created_ms;
        job.end_ms = job.created_ms + 7 * 86'400'000LL;
        jobs.push_back(std::move(job));
    }
    return jobs;
}

void Render(benchmark::State& state, rpc::Format format) {
    const std::vector<domain::Job> jobs = TenJobs();
    size_t bytes = 0;
    for (auto _ : state) {
        rpc::ResponseWriter w(format);
        w.BeginRoot("ListOTAJobByDeviceResponse");
        w.String("RequestId", "6A4F2B6E-0B1C-4D8E-9F3A-2C5D7E9F1A3B");
        w.Bool("Success", true);
        rpc::WritePaging(w, 1, 10, 10);
        w.BeginObject("Data");
        w.BeginArray("SimpleOTAJobInfo");
        for (const domain::Job& job : jobs) {
            rpc::WriteSimpleJobInfo(w, job);
        }
        w.EndArray();
        w.EndObject();
        w.EndRoot();
        bytes = w.body().size();
        benchmark::DoNotOptimize(w.body());
    }
    state.counters["body_bytes"] = static_cast<double>(bytes);
    state.SetItemsProcessed(state.iterations());
}

void BM_RenderListOTAJobByDeviceJson(benchmark::State& state) {
    Render(state, rpc::Format::kJson);
}
BENCHMARK(BM_RenderListOTAJobByDeviceJson);

void BM_RenderListOTAJobByDeviceXml(benchmark::State& state) {
    Render(state, rpc::Format::kXml);
}
BENCHMARK(BM_RenderListOTAJobByDeviceXml);

}  // namespace
}  // namespace otad::bench
