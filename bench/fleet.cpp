#include "fleet.hpp"

#include "rng.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <utility>

namespace otad::bench {
namespace {

using domain::Device;
using domain::Firmware;
using domain::Job;
using domain::JobStatus;
using domain::Product;
using domain::Task;
using domain::TaskStatus;
using domain::WriteTx;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;
/// 2024-01-01T00:00:00Z: every generated time is relative to it, so a seed fixes the data.
constexpr int64_t kBaseMs = 1'704'067'200'000;

double SecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// What the job and task loops need to remember of devices and packages.
struct FirmwareInfo {
    std::string firmware_id;
    int64_t product = 0;
    std::string module_name;
    std::string dest_version;
};

int64_t DevicesOfProduct(const FleetOptions& o, int64_t p) {
    return o.devices / o.products + (p < o.devices % o.products ? 1 : 0);
}

JobStatus PickJobStatus(Rng& rng, double age_fraction) {
    const double r = rng.Unit();
    if (age_fraction > 0.95) {  // the newest batches
        if (r < 0.60) {
            return JobStatus::kInProgress;
        }
        if (r < 0.80) {
            return JobStatus::kPlanned;
        }
        return r < 0.90 ? JobStatus::kCompleted : JobStatus::kCanceled;
    }
    if (r < 0.85) {
        return JobStatus::kCompleted;
    }
    return r < 0.95 ? JobStatus::kCanceled : JobStatus::kInProgress;
}

TaskStatus PickTaskStatus(Rng& rng, JobStatus job) {
    const double r = rng.Unit();
    switch (job) {
        case JobStatus::kCompleted:
            return r < 0.88 ? TaskStatus::kSucceeded
                            : (r < 0.97 ? TaskStatus::kFailed : TaskStatus::kCanceled);
        case JobStatus::kCanceled:
            return r < 0.80 ? TaskStatus::kCanceled
                            : (r < 0.95 ? TaskStatus::kSucceeded : TaskStatus::kFailed);
        case JobStatus::kInProgress:
            if (r < 0.40) {
                return TaskStatus::kSucceeded;
            }
            if (r < 0.55) {
                return TaskStatus::kInProgress;
            }
            if (r < 0.65) {
                return TaskStatus::kNotified;
            }
            if (r < 0.90) {
                return TaskStatus::kQueued;
            }
            return r < 0.95 ? TaskStatus::kFailed : TaskStatus::kConfirm;
        case JobStatus::kPlanned:
            return TaskStatus::kQueued;
    }
    return TaskStatus::kQueued;
}

Job MakeJob(Rng& rng,
            int64_t index,
            const FleetOptions& o,
            const FirmwareInfo& fw,
            const std::string& product_key) {
    Job job;
    job.job_id = rng.Base62(20) + "020200";
    job.firmware_id = fw.firmware_id;
    job.product_key = product_key;
    const double age_fraction = static_cast<double>(index) / static_cast<double>(o.jobs);
    job.created_ms = kBaseMs - 365 * kDayMs + index * (365 * kDayMs / o.jobs) +
                     static_cast<int64_t>(rng.Below(kMinuteMs));
    job.job_status = PickJobStatus(rng, age_fraction);
    const double selection = rng.Unit();
    if (selection < 0.40) {
        job.target_selection = domain::TargetSelection::kAll;
    } else if (selection < 0.75) {
        job.target_selection = domain::TargetSelection::kSpecific;
    } else {
        job.target_selection = domain::TargetSelection::kGray;
        job.gray_percent = std::to_string(5 + rng.Below(46));
    }
    if (job.target_selection != domain::TargetSelection::kGray) {
        const uint64_t versions = rng.Below(3);
        for (uint64_t v = 0; v < versions; ++v) {
            job.src_versions.push_back("1.0." + std::to_string(v * 3 + rng.Below(3)));
        }
    }
    static constexpr const char* kTagKeys[] = {"env", "region", "wave", "owner"};
    static constexpr const char* kEnv[] = {"prod", "staging", "canary"};
    static constexpr const char* kRegion[] = {"cn-shanghai", "cn-beijing", "ap-southeast-1"};
    const uint64_t tag_count = rng.Below(4);
    for (uint64_t t = 0; t < tag_count; ++t) {
        std::string value;
        switch (t) {
            case 0:
                value = kEnv[rng.Below(3)];
                break;
            case 1:
                value = kRegion[rng.Below(3)];
                break;
            case 2:
                value = std::to_string(1 + rng.Below(5));
                break;
            default:
                value = "team-" + rng.Base62(4);
                break;
        }
        job.tags.push_back({kTagKeys[t], std::move(value)});
    }
    job.job_desc = rng.Below(2) == 0 ? std::string{} : "rollout of " + fw.dest_version;
    if (rng.Below(2) == 0) {
        job.retry_interval_min = 60;
        job.retry_count = static_cast<int>(1 + rng.Below(5));
    }
    if (rng.Below(10) < 3) {
        job.timeout_min = 1440;
    }
    job.maximum_per_minute = rng.Below(4) == 0 ? 1000 : 10000;
    job.need_confirm = rng.Below(10) == 0;
    job.download_protocol = rng.Below(10) == 0 ? "MQTT" : "HTTPS";
    if (job.job_status == JobStatus::kPlanned) {
        job.schedule_ms = job.created_ms + (1 + static_cast<int64_t>(rng.Below(30))) * kDayMs;
    } else {
        job.start_ms = job.created_ms;
    }
    job.modified_ms = job.created_ms;
    if (job.job_status == JobStatus::kCompleted || job.job_status == JobStatus::kCanceled) {
        job.end_ms = job.created_ms + (1 + static_cast<int64_t>(rng.Below(14))) * kDayMs;
        job.modified_ms = job.end_ms;
    }
    return job;
}

// Counts rows so that transactions close at roughly the requested size.
class Batcher {
  public:
    Batcher(domain::Store& store, int64_t rows)
        : store_(store), rows_(std::max<int64_t>(rows, 1)) {}

    /// Runs `step` repeatedly inside transactions of about `rows` rows until it returns false.
    /// `step` returns the number of rows it wrote through `added`, and whether more follow.
    template <typename Step>
    Status Run(Step step) {
        bool more = true;
        while (more) {
            OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
                int64_t written = 0;
                while (more && written < rows_) {
                    OTA_ASSIGN_OR_RETURN(const int64_t added, step(tx, more));
                    written += added;
                }
                return Ok();
            }));
        }
        return Ok();
    }

  private:
    domain::Store& store_;
    int64_t rows_;
};

}  // namespace

std::string FleetDeviceName(int64_t product_index, int64_t k) {
    // An odd multiplier permutes 24-bit numbers, so names are unique within a product for up to
    // 16.7 million devices and look random.
    const uint32_t oui =
        static_cast<uint32_t>((product_index * 0x5bd1e995LL + 0x1c2f3a) & 0xffffff);
    const uint32_t nic = static_cast<uint32_t>((k * 0x9e3779b1LL) & 0xffffff);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%06x%06x", oui, nic);
    return buf;
}

Result<FleetSummary> GenerateFleet(domain::Store& store, const FleetOptions& o) {
    if (o.products < 1 || o.devices < 0 || o.firmware < 0 || o.jobs < 0 || o.tasks < 0) {
        return MakeError(ErrorCode::kInvalidParameter, "sizes must be positive");
    }
    if (o.tasks > 0 && (o.firmware < 1 || o.jobs < 1 || o.devices < 1)) {
        return MakeError(ErrorCode::kInvalidParameter,
                         "tasks need at least one device, firmware package and job");
    }
    if (o.jobs > 0 && o.firmware < 1) {
        return MakeError(ErrorCode::kInvalidParameter, "jobs need at least one firmware package");
    }
    if (o.devices / o.products >= (int64_t{1} << 24)) {
        return MakeError(ErrorCode::kInvalidParameter, "at most 16777215 devices per product");
    }
    const auto start = std::chrono::steady_clock::now();
    FleetSummary summary;
    Rng rng(o.seed);
    Rng sample_rng(o.seed ^ 0x5a5a5a5a5a5a5a5aULL);
    auto progress = [&](std::string_view phase, int64_t done, int64_t total) {
        if (o.progress) {
            o.progress(phase, done, total);
        }
    };

    // Account, instance, products.
    std::vector<std::string> product_keys;
    OTA_TRY(store.Write([&](WriteTx& tx) -> Status {
        domain::Account account;
        account.name = o.account_name;
        account.access_key_id = o.access_key_id;
        account.access_key_secret = o.access_key_secret;
        account.created_ms = kBaseMs - 600 * kDayMs;
        OTA_ASSIGN_OR_RETURN(const domain::Account stored, tx.InsertAccount(account));
        domain::Instance instance;
        instance.account_id = stored.id;
        instance.instance_id = "iot-" + rng.Hex(8);
        instance.is_default = true;
        instance.created_ms = account.created_ms;
        OTA_ASSIGN_OR_RETURN(const domain::Instance inst, tx.InsertInstance(instance));
        summary.scope = domain::Scope{stored.id, inst.id};
        for (int64_t p = 0; p < o.products; ++p) {
            Product product;
            product.product_key = "a1" + rng.Base62(9);
            char name[32];
            std::snprintf(name, sizeof name, "bench-product-%03lld", static_cast<long long>(p));
            product.product_name = name;
            product.product_secret = rng.Base62(16);
            product.description = "benchmark fleet";
            product.protocol_type = "ALINK";
            product.category_key = "Lighting";
            product.created_ms = kBaseMs - 500 * kDayMs + p * kHourMs;
            OTA_TRY(tx.InsertProduct(summary.scope, product));
            product_keys.push_back(product.product_key);
        }
        return Ok();
    }));
    summary.products = o.products;
    const domain::Scope scope = summary.scope;

    // Devices: global index j is the (j / products)-th device of product j % products.
    std::vector<std::array<char, 26>> iot_ids(static_cast<size_t>(o.devices));
    std::vector<uint8_t> device_versions(static_cast<size_t>(o.devices));
    int64_t next_device = 0;
    OTA_TRY(
        Batcher(store, o.rows_per_transaction).Run([&](WriteTx& tx, bool& more) -> Result<int64_t> {
            if (next_device >= o.devices) {
                more = false;
                return int64_t{0};
            }
            const int64_t j = next_device++;
            const int64_t p = j % o.products;
            Device d;
            d.iot_id = rng.Base62(20) + "000100";
            std::copy(d.iot_id.begin(), d.iot_id.end(), iot_ids[j].begin());
            d.product_key = product_keys[p];
            d.device_name = FleetDeviceName(p, j / o.products);
            d.device_secret = rng.Base62(32);
            const double r = rng.Unit();
            d.status = r < 0.40 ? "ONLINE" : (r < 0.90 ? "OFFLINE" : "UNACTIVE");
            device_versions[j] = static_cast<uint8_t>(rng.Below(10));
            d.firmware_version = "1.0." + std::to_string(device_versions[j]);
            d.created_ms = kBaseMs - 450 * kDayMs + (j % 100'000) * kMinuteMs;
            d.modified_ms = d.created_ms;
            if (d.status != "UNACTIVE") {
                d.active_ms = d.created_ms + kDayMs;
                d.online_ms = kBaseMs - static_cast<int64_t>(rng.Below(30)) * kDayMs;
                d.ip_address = "10." + std::to_string(rng.Below(256)) + "." +
                               std::to_string(rng.Below(256)) + "." +
                               std::to_string(1 + rng.Below(254));
            }
            OTA_TRY(tx.InsertDevice(scope, d));
            more = next_device < o.devices;
            if (next_device % o.rows_per_transaction == 0 || !more) {
                progress("devices", next_device, o.devices);
            }
            return int64_t{1};
        }));
    summary.devices = o.devices;
    summary.seconds_devices = SecondsSince(start);

    // Firmware packages: package i belongs to product i % products.
    std::vector<FirmwareInfo> packages;
    OTA_TRY(store.Write([&](WriteTx& tx) -> Status {
        for (int64_t i = 0; i < o.firmware; ++i) {
            Firmware f;
            f.firmware_id = rng.Base62(20) + "030100";
            f.product_key = product_keys[i % o.products];
            f.firmware_name = "fw-" + std::to_string(i);
            f.firmware_desc = rng.Below(2) == 0 ? std::string{} : "release " + std::to_string(i);
            f.dest_version = "2." + std::to_string(i / 100) + "." + std::to_string(i % 100);
            if (rng.Below(5) == 0) {
                f.type = 1;
                f.src_version = "1.0." + std::to_string(rng.Below(10));
            }
            f.firmware_sign = rng.Hex(32);
            f.firmware_size = static_cast<int64_t>(1'000'000 + rng.Below(63'000'000));
            f.firmware_url = "https://ota.example.com/firmware/" + f.firmware_id + ".bin";
            f.need_to_verify = rng.Below(2) == 0;
            f.status = f.need_to_verify ? domain::FirmwareStatus::kVerified
                                        : domain::FirmwareStatus::kNoVerificationNeeded;
            f.verify_progress = f.need_to_verify ? 100 : 0;
            f.created_ms = kBaseMs - 400 * kDayMs + i * kHourMs;
            f.modified_ms = f.created_ms;
            OTA_TRY(tx.InsertFirmware(scope, f));
            packages.push_back({f.firmware_id, i % o.products, f.module_name, f.dest_version});
        }
        return Ok();
    }));
    summary.firmware = o.firmware;

    // Task counts per job, and per package the cohort its batches draw from.
    std::vector<int64_t> tasks_of_job(static_cast<size_t>(o.jobs));
    std::vector<int64_t> tasks_of_package(static_cast<size_t>(o.firmware), 0);
    std::vector<int64_t> largest_job_of_package(static_cast<size_t>(o.firmware), 0);
    for (int64_t i = 0; i < o.jobs; ++i) {
        const FirmwareInfo& fw = packages[i % o.firmware];
        const int64_t asked = o.tasks / o.jobs + (i < o.tasks % o.jobs ? 1 : 0);
        tasks_of_job[i] = std::min(asked, DevicesOfProduct(o, fw.product));
        tasks_of_package[i % o.firmware] += tasks_of_job[i];
        largest_job_of_package[i % o.firmware] =
            std::max(largest_job_of_package[i % o.firmware], tasks_of_job[i]);
    }
    std::vector<int64_t> cohort_start(static_cast<size_t>(o.firmware));
    std::vector<int64_t> cohort_size(static_cast<size_t>(o.firmware));
    for (int64_t f = 0; f < o.firmware; ++f) {
        const int64_t n = DevicesOfProduct(o, packages[f].product);
        const auto wanted = static_cast<int64_t>(
            std::ceil(static_cast<double>(tasks_of_package[f]) / kCohortOverlap));
        cohort_size[f] = std::min(n, std::max(largest_job_of_package[f], wanted));
        cohort_start[f] = n > 0 ? static_cast<int64_t>(rng.Below(static_cast<uint64_t>(n))) : 0;
    }

    // Jobs, each followed by its tasks.
    const auto jobs_start = std::chrono::steady_clock::now();
    int64_t next_job = 0;
    int64_t task_serial = 0;
    std::vector<Task> tasks;
    OTA_TRY(
        Batcher(store, o.rows_per_transaction).Run([&](WriteTx& tx, bool& more) -> Result<int64_t> {
            if (next_job >= o.jobs) {
                more = false;
                return int64_t{0};
            }
            const int64_t i = next_job++;
            const int64_t f = i % o.firmware;
            const FirmwareInfo& fw = packages[f];
            const int64_t p = fw.product;
            const int64_t n = DevicesOfProduct(o, p);
            const Job job = MakeJob(rng, i, o, fw, product_keys[p]);
            OTA_TRY(tx.InsertJob(scope, job));
            summary.jobs_by_status[static_cast<size_t>(job.job_status)]++;
            summary.tags += static_cast<int64_t>(job.tags.size());

            tasks.clear();
            const int64_t window = cohort_size[f];
            const int64_t offset =
                window > 0 ? static_cast<int64_t>(rng.Below(static_cast<uint64_t>(window))) : 0;
            for (int64_t t = 0; t < tasks_of_job[i]; ++t) {
                const int64_t k = (cohort_start[f] + (offset + t) % window) % n;
                const int64_t j = k * o.products + p;
                Task task;
                task.task_id = rng.Base62(20) + "010100";
                task.job_id = job.job_id;
                task.firmware_id = fw.firmware_id;
                task.iot_id.assign(iot_ids[j].begin(), iot_ids[j].end());
                task.product_key = product_keys[p];
                task.device_name = FleetDeviceName(p, k);
                task.module_name = fw.module_name;
                task.src_version = "1.0." + std::to_string(device_versions[j]);
                task.dest_version = fw.dest_version;
                task.status = PickTaskStatus(rng, job.job_status);
                if (task.status == TaskStatus::kSucceeded) {
                    task.progress = "100.00";
                    task.task_desc = "Upgrade success";
                } else if (task.status == TaskStatus::kInProgress) {
                    task.progress = std::to_string(rng.Below(100)) + ".00";
                } else if (task.status == TaskStatus::kFailed) {
                    task.task_desc = rng.Below(2) == 0 ? "Upgrade timeout" : "Download failed";
                }
                task.job_created_ms = job.created_ms;
                task.created_ms = job.created_ms;
                task.modified_ms = job.created_ms + static_cast<int64_t>(rng.Below(kDayMs));
                summary.tasks_by_status[static_cast<size_t>(task.status)]++;

                // Reservoir sampling over all tasks, on a separate stream so that the
                // sample size does not change the data.
                const int64_t g = task_serial++;
                if (summary.samples.size() < o.sample_capacity) {
                    summary.samples.push_back(
                        {task.product_key, task.device_name, task.firmware_id, task.iot_id});
                } else {
                    const uint64_t slot = sample_rng.Below(static_cast<uint64_t>(g) + 1);
                    if (slot < o.sample_capacity) {
                        summary.samples[slot] = {
                            task.product_key, task.device_name, task.firmware_id, task.iot_id};
                    }
                }
                tasks.push_back(std::move(task));
            }
            if (!tasks.empty()) {
                OTA_TRY(tx.InsertTasks(scope, tasks));
            }
            summary.tasks += static_cast<int64_t>(tasks.size());
            more = next_job < o.jobs;
            if (next_job % 500 == 0 || !more) {
                progress("tasks", summary.tasks, o.tasks);
            }
            return 1 + static_cast<int64_t>(tasks.size() + job.tags.size());
        }));
    summary.jobs = o.jobs;
    summary.seconds_jobs_and_tasks = SecondsSince(jobs_start);
    summary.seconds_total = SecondsSince(start);
    return summary;
}

}  // namespace otad::bench
