#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"
#include "domain/ports.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

// A realistic, deterministic fleet written straight through the storage ports: one account with
// its default instance, products, devices, firmware packages, update batches with tags, and
// their tasks. Used by otad-datagen (to build a data directory otad then serves) and by the
// repository micro-benchmarks.
//
// Shape. Devices are spread round-robin over the products, firmware packages too, and batches
// round-robin over the packages, created at even intervals over the year before the base time
// (older batches are mostly finished, the newest are still running). Each package targets one
// cohort of its product's devices and each of its batches picks a contiguous run of that cohort,
// so a device that is in one batch of a package is usually in a few of them (about
// kCohortOverlap on average): ListOTAJobByDevice then answers a handful of jobs, as in a fleet
// that is updated in gray waves. A batch never holds a device twice.

namespace otad::bench {

struct FleetOptions {
    int64_t devices = 1'000'000;
    int64_t products = 10;
    int64_t firmware = 1'000;
    int64_t jobs = 10'000;
    int64_t tasks = 5'000'000;
    uint64_t seed = 1;
    std::string account_name = "bench";
    std::string access_key_id = "LTAIbenchAccessKey0001";
    std::string access_key_secret = "benchAccessKeySecret0000000001";
    /// Rows written per transaction.
    int64_t rows_per_transaction = 100'000;
    /// At most this many (ProductKey, DeviceName, FirmwareId) triples with tasks are kept, drawn
    /// uniformly over all tasks (a device with more tasks of a package is drawn more often).
    size_t sample_capacity = 250'000;
    /// Called after each committed transaction: phase name, rows of that phase done, total.
    std::function<void(std::string_view, int64_t, int64_t)> progress;
};

/// Average number of batches of one package a targeted device belongs to.
inline constexpr double kCohortOverlap = 2.5;

/// One device and package that have at least one task together.
struct FleetSample {
    std::string product_key;
    std::string device_name;
    std::string firmware_id;
    std::string iot_id;
};

struct FleetSummary {
    domain::Scope scope;
    int64_t products = 0;
    int64_t devices = 0;
    int64_t firmware = 0;
    int64_t jobs = 0;
    int64_t tasks = 0;
    int64_t tags = 0;
    std::array<int64_t, 4> jobs_by_status{};   ///< indexed by domain::JobStatus
    std::array<int64_t, 7> tasks_by_status{};  ///< indexed by domain::TaskStatus
    std::vector<FleetSample> samples;
    double seconds_devices = 0;
    double seconds_jobs_and_tasks = 0;
    double seconds_total = 0;
};

/// Writes the fleet into an empty store. Fails on invalid sizes (fewer than one product,
/// firmware or job while tasks are asked for) or on any storage error. A batch holds at most all
/// devices of its product, so fewer tasks than asked are written when the sizes demand more.
Result<FleetSummary> GenerateFleet(domain::Store& store, const FleetOptions& options);

/// Device name of the k-th device of the p-th product: twelve hex digits, like a MAC address.
std::string FleetDeviceName(int64_t product_index, int64_t k);

}  // namespace otad::bench
