// The ListOTAJobByDevice read path on a generated fleet (100,000 tasks): the repository query
// alone, the domain service (which also looks up the product, the device and the package), and
// the whole rpc::Dispatcher::Handle of a signed request (no sockets).

#include "common/clock.hpp"
#include "common/time_format.hpp"
#include "domain/file_service.hpp"
#include "domain/services.hpp"
#include "files/blob_store.hpp"
#include "fleet.hpp"
#include "rng.hpp"
#include "rpc/dispatcher.hpp"
#include "signed_request.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace otad::bench {
namespace {

constexpr int64_t kNowMs = 1716193800000;  // 2024-05-20T08:30:00Z
constexpr size_t kPool = 4096;

// One fleet for all cases of this file, built on first use in a temporary directory that is
// removed at exit.
struct Fleet {
    std::filesystem::path dir;
    std::unique_ptr<domain::Store> store;
    FleetOptions options;
    FleetSummary summary;

    Fleet() {
        char pattern[] = "/tmp/otad-microbench-XXXXXX";
        if (::mkdtemp(pattern) == nullptr) {
            std::perror("mkdtemp");
            std::abort();
        }
        dir = pattern;
        storage::sqlite::SqliteOptions so;
        so.path = (dir / "otad.db").string();
        so.synchronous_full = false;
        auto opened = storage::sqlite::OpenSqliteStore(so);
        if (!opened.ok()) {
            std::fprintf(stderr, "cannot open store: %s\n", opened.error().internal.c_str());
            std::abort();
        }
        store = std::move(opened).value();
        options.devices = 20'000;
        options.products = 10;
        options.firmware = 100;
        options.jobs = 1'000;
        options.tasks = 100'000;
        options.sample_capacity = 10'000;
        auto made = GenerateFleet(*store, options);
        if (!made.ok()) {
            std::fprintf(stderr, "cannot generate the fleet: %s\n", made.error().internal.c_str());
            std::abort();
        }
        summary = std::move(made).value();
    }
    ~Fleet() {
        store.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

Fleet& SharedFleet() {
    static Fleet fleet;
    return fleet;
}

void BM_RepoListJobsByDevice(benchmark::State& state) {
    Fleet& f = SharedFleet();
    Rng rng(11);
    int64_t items = 0;
    for (auto _ : state) {
        const FleetSample& s = f.summary.samples[rng.Below(f.summary.samples.size())];
        domain::Page<domain::Job> page;
        Status st = f.store->Read([&](domain::ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(
                page, tx.ListJobsByDevice(f.summary.scope, s.iot_id, s.firmware_id, 0, 10));
            return Ok();
        });
        if (!st.ok() || page.items.empty()) {
            state.SkipWithError("query failed or found nothing");
            break;
        }
        items += static_cast<int64_t>(page.items.size());
    }
    state.counters["jobs_per_answer"] =
        benchmark::Counter(static_cast<double>(items), benchmark::Counter::kAvgIterations);
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RepoListJobsByDevice);

void BM_ServicesListJobsByDevice(benchmark::State& state) {
    Fleet& f = SharedFleet();
    const ManualClock clock(kNowMs);
    domain::Services services(*f.store, clock);
    Rng rng(12);
    for (auto _ : state) {
        const FleetSample& s = f.summary.samples[rng.Below(f.summary.samples.size())];
        domain::ListJobsByDeviceQuery q;
        q.product_key = s.product_key;
        q.device_name = s.device_name;
        q.firmware_id = s.firmware_id;
        auto page = services.ListJobsByDevice(f.summary.scope, q);
        if (!page.ok() || page->items.empty()) {
            state.SkipWithError("query failed or found nothing");
            break;
        }
        benchmark::DoNotOptimize(page);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServicesListJobsByDevice);

// Everything otad does for one request except the HTTP parsing and the socket I/O: parameter
// decoding, format choice, V3 verification (key from the cache), throttling (off, as in the
// load runs), instance resolution, the query and the JSON rendering.
void BM_DispatchListOTAJobByDeviceV3(benchmark::State& state) {
    Fleet& f = SharedFleet();
    const ManualClock clock(kNowMs);
    domain::Services services(*f.store, clock);
    rpc::DispatcherOptions options;
    options.throttling.enabled = false;
    options.nonces.max_entries = kPool * 4;
    std::vector<HttpRequest> pool;
    Rng rng(13);
    for (size_t i = 0; i < kPool; ++i) {
        const FleetSample& s = f.summary.samples[rng.Below(f.summary.samples.size())];
        ListJobsCall c;
        c.host = "127.0.0.1:8080";
        c.access_key_id = f.options.access_key_id;
        c.access_key_secret = f.options.access_key_secret;
        c.product_key = s.product_key;
        c.device_name = s.device_name;
        c.firmware_id = s.firmware_id;
        c.date = FormatUtcSeconds(kNowMs);
        c.nonce = rng.Hex(32);
        pool.push_back(MakeV3ListJobsRequest(c));
    }
    // The file service is part of the dispatcher's wiring; this request never touches files.
    const std::filesystem::path files_dir =
        std::filesystem::temp_directory_path() / ("otad-bench-files-" + std::to_string(::getpid()));
    auto blobs = files::DiskBlobStore::Open((files_dir / "blobs").string(),
                                            (files_dir / "staging").string());
    if (!blobs.ok()) {
        state.SkipWithError("cannot create the blob directory");
        return;
    }
    domain::FileServiceOptions file_options;
    file_options.upload_base_url = "http://127.0.0.1:8080";
    file_options.secret = std::string(32, 'b');
    domain::FileService files(*f.store, **blobs, clock, file_options);
    auto dispatcher = std::make_unique<rpc::Dispatcher>(services, files, clock, options);
    size_t i = 0;
    size_t bytes = 0;
    for (auto _ : state) {
        if (i == kPool) {  // every nonce used once: start over with a fresh replay cache
            state.PauseTiming();
            dispatcher = std::make_unique<rpc::Dispatcher>(services, files, clock, options);
            i = 0;
            state.ResumeTiming();
        }
        HttpResponse r = dispatcher->Handle(pool[i++]);
        if (r.status != 200 || r.body.find("\"Success\":true") == std::string::npos) {
            state.SkipWithError(("request failed: " + r.body).c_str());
            break;
        }
        bytes += r.body.size();
    }
    state.counters["body_bytes"] =
        benchmark::Counter(static_cast<double>(bytes), benchmark::Counter::kAvgIterations);
    state.SetItemsProcessed(state.iterations());
    std::filesystem::remove_all(files_dir);
}
BENCHMARK(BM_DispatchListOTAJobByDeviceV3);

}  // namespace
}  // namespace otad::bench
