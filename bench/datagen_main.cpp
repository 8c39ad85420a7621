// otad-datagen: writes a benchmark fleet into a data directory that `otad serve --data DIR` then
// serves, through otad's own storage layer.
//
//   otad-datagen --data DIR [--devices N] [--products N] [--firmware N] [--jobs N] [--tasks N]
//                [--seed N] [--access-key-id ID] [--access-key-secret S]
//                [--manifest FILE] [--manifest-max N] [--rows-per-tx N]
//
// Besides the database it writes FILE (default DIR/manifest.csv): "ProductKey,DeviceName,
// FirmwareId" lines of devices and packages that have tasks together, for otad-load to sample,
// and DIR/fleet.json, a one-line summary of what was made.

#include "common/result.hpp"
#include "fleet.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace otad::bench {
namespace {

constexpr std::string_view kUsage =
    "usage: otad-datagen --data DIR [--devices N] [--products N] [--firmware N] [--jobs N]\n"
    "                    [--tasks N] [--seed N] [--access-key-id ID] [--access-key-secret S]\n"
    "                    [--manifest FILE] [--manifest-max N] [--rows-per-tx N]\n";

int Fail(const std::string& message) {
    std::cerr << "otad-datagen: " << message << "\n";
    return 2;
}

bool ParseCount(const std::string& text, int64_t& out) {
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v < 0) {
        return false;
    }
    out = v;
    return true;
}

std::string Json(const FleetSummary& s, const FleetOptions& o, const std::string& db_path) {
    static constexpr const char* kJobStatus[] = {"PLANNED", "IN_PROGRESS", "COMPLETED", "CANCELED"};
    static constexpr const char* kTaskStatus[] = {
        "CONFIRM", "QUEUED", "NOTIFIED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "CANCELED"};
    std::error_code ec;
    const auto db_bytes = std::filesystem::file_size(db_path, ec);
    std::string out =
        "{\"seed\":" + std::to_string(o.seed) + ",\"products\":" + std::to_string(s.products) +
        ",\"devices\":" + std::to_string(s.devices) +
        ",\"firmware\":" + std::to_string(s.firmware) + ",\"jobs\":" + std::to_string(s.jobs) +
        ",\"tasks\":" + std::to_string(s.tasks) + ",\"tags\":" + std::to_string(s.tags) +
        ",\"jobs_by_status\":{";
    auto append_counts = [&out](const auto& counts, const char* const* names) {
        for (size_t i = 0; i < counts.size(); ++i) {
            if (i > 0) {
                out += ',';
            }
            out += '"';
            out += names[i];
            out += "\":";
            out += std::to_string(counts[i]);
        }
    };
    append_counts(s.jobs_by_status, kJobStatus);
    out += "},\"tasks_by_status\":{";
    append_counts(s.tasks_by_status, kTaskStatus);
    char times[160];
    std::snprintf(times,
                  sizeof times,
                  "},\"manifest_rows\":%zu,\"db_bytes\":%lld,\"seconds_devices\":%.2f,"
                  "\"seconds_jobs_and_tasks\":%.2f,\"seconds_total\":%.2f}",
                  s.samples.size(),
                  ec ? -1LL : static_cast<long long>(db_bytes),
                  s.seconds_devices,
                  s.seconds_jobs_and_tasks,
                  s.seconds_total);
    return out + times;
}

int Main(int argc, char** argv) {
    std::map<std::string, std::string> flags;
    for (int i = 1; i < argc; ++i) {
        std::string name = argv[i];
        if (name == "--help" || name == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (!name.starts_with("--") || i + 1 >= argc) {
            return Fail("bad argument '" + name + "'\n" + std::string(kUsage));
        }
        flags[name.substr(2)] = argv[++i];
    }
    FleetOptions o;
    std::string data_dir;
    std::string manifest;
    for (const auto& [name, value] : flags) {
        int64_t n = 0;
        auto count = [&](int64_t& field) {
            if (!ParseCount(value, n)) {
                return false;
            }
            field = n;
            return true;
        };
        bool ok = true;
        if (name == "data") {
            data_dir = value;
        } else if (name == "manifest") {
            manifest = value;
        } else if (name == "access-key-id") {
            o.access_key_id = value;
        } else if (name == "access-key-secret") {
            o.access_key_secret = value;
        } else if (name == "devices") {
            ok = count(o.devices);
        } else if (name == "products") {
            ok = count(o.products);
        } else if (name == "firmware") {
            ok = count(o.firmware);
        } else if (name == "jobs") {
            ok = count(o.jobs);
        } else if (name == "tasks") {
            ok = count(o.tasks);
        } else if (name == "rows-per-tx") {
            ok = count(o.rows_per_transaction);
        } else if (name == "seed") {
            ok = ParseCount(value, n);
            o.seed = static_cast<uint64_t>(n);
        } else if (name == "manifest-max") {
            ok = ParseCount(value, n);
            o.sample_capacity = static_cast<size_t>(n);
        } else {
            return Fail("unknown option --" + name + "\n" + std::string(kUsage));
        }
        if (!ok) {
            return Fail("--" + name + " needs a non-negative integer");
        }
    }
    if (data_dir.empty()) {
        return Fail("--data DIR is required\n" + std::string(kUsage));
    }
    const std::filesystem::path dir(data_dir);
    const std::filesystem::path db_path = dir / "otad.db";
    if (manifest.empty()) {
        manifest = (dir / "manifest.csv").string();
    }
    if (std::filesystem::exists(db_path)) {
        return Fail(db_path.string() + " already exists; generate into an empty directory");
    }
    std::error_code ec;
    std::filesystem::create_directories(dir / "files", ec);
    if (ec) {
        return Fail("cannot create " + data_dir + ": " + ec.message());
    }

    std::printf(
        "generating %lld devices over %lld products, %lld firmware packages, %lld jobs, "
        "%lld tasks (seed %llu) into %s\n",
        static_cast<long long>(o.devices),
        static_cast<long long>(o.products),
        static_cast<long long>(o.firmware),
        static_cast<long long>(o.jobs),
        static_cast<long long>(o.tasks),
        static_cast<unsigned long long>(o.seed),
        db_path.c_str());
    std::fflush(stdout);
    const auto start = std::chrono::steady_clock::now();
    auto last_report = start;
    o.progress = [&](std::string_view phase, int64_t done, int64_t total) {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_report < std::chrono::seconds(5) && done != total) {
            return;
        }
        last_report = now;
        std::printf("  %.*s: %lld / %lld (%.1f s)\n",
                    static_cast<int>(phase.size()),
                    phase.data(),
                    static_cast<long long>(done),
                    static_cast<long long>(total),
                    std::chrono::duration<double>(now - start).count());
        std::fflush(stdout);
    };

    FleetSummary summary;
    {
        storage::sqlite::SqliteOptions options;
        options.path = db_path.string();
        options.synchronous_full = false;
        options.reader_connections = 1;
        auto store = storage::sqlite::OpenSqliteStore(options);
        if (!store.ok()) {
            return Fail("cannot open the store: " + store.error().internal);
        }
        auto made = GenerateFleet(**store, o);
        if (!made.ok()) {
            return Fail("generation failed: " + made.error().message + " " + made.error().internal);
        }
        summary = std::move(made).value();
    }  // closing the store checkpoints the write-ahead log into the database file
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    {
        std::ofstream out(manifest, std::ios::trunc);
        out << "ProductKey,DeviceName,FirmwareId\n";
        for (const FleetSample& s : summary.samples) {
            out << s.product_key << ',' << s.device_name << ',' << s.firmware_id << '\n';
        }
        if (!out) {
            return Fail("cannot write " + manifest);
        }
    }
    summary.seconds_total = seconds;
    const std::string json = Json(summary, o, db_path.string());
    {
        std::ofstream out(dir / "fleet.json", std::ios::trunc);
        out << json << '\n';
    }
    std::printf(
        "made %lld products, %lld devices, %lld firmware packages, %lld jobs (%lld tags), "
        "%lld tasks in %.1f s; manifest %s (%zu rows)\n",
        static_cast<long long>(summary.products),
        static_cast<long long>(summary.devices),
        static_cast<long long>(summary.firmware),
        static_cast<long long>(summary.jobs),
        static_cast<long long>(summary.tags),
        static_cast<long long>(summary.tasks),
        seconds,
        manifest.c_str(),
        summary.samples.size());
    std::printf("%s\n", json.c_str());
    return 0;
}

}  // namespace
}  // namespace otad::bench

int main(int argc, char** argv) {
    return otad::bench::Main(argc, argv);
}
