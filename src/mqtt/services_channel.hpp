#pragma once

#include "domain/services.hpp"
#include "mqtt/ports.hpp"

namespace otad::mqtt {

/// The device channel operations of domain::Services. `services` must outlive this object.
class ServicesDeviceChannel final : public DeviceChannel {
  public:
    explicit ServicesDeviceChannel(domain::Services& services) : services_(services) {}

    Result<domain::DeviceEventOutcome> ApplyDeviceEvents(
        const std::vector<domain::DeviceEvent>& events) override;
    Result<std::vector<domain::UpgradeNotice>> TakeDuePushes(int64_t limit) override;
    Result<std::vector<domain::UpgradeNotice>> ReofferStaleTasks(int64_t stale_after_ms,
                                                                 int64_t limit) override;
    Status ResetPresence() override;
    Result<bool> HoldPresenceLease(std::string_view holder, int64_t term_ms) override;
    Status ReleasePresenceLease(std::string_view holder) override;

  private:
    domain::Services& services_;
};

}  // namespace otad::mqtt
