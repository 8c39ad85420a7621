#include "mqtt/services_channel.hpp"

namespace otad::mqtt {

Result<domain::DeviceEventOutcome> ServicesDeviceChannel::ApplyDeviceEvents(
    const std::vector<domain::DeviceEvent>& events) {
    return services_.ApplyDeviceEvents(events);
}

Result<std::vector<domain::UpgradeNotice>> ServicesDeviceChannel::TakeDuePushes(int64_t limit) {
    return services_.TakeDuePushes(limit);
}

Result<std::vector<domain::UpgradeNotice>> ServicesDeviceChannel::ReofferStaleTasks(
    int64_t stale_after_ms, int64_t limit) {
    return services_.ReofferStaleTasks(stale_after_ms, limit);
}

Status ServicesDeviceChannel::ResetPresence() {
    return services_.ResetPresence();
}

Result<bool> ServicesDeviceChannel::HoldPresenceLease(std::string_view holder, int64_t term_ms) {
    return services_.HoldPresenceLease(holder, term_ms);
}

Status ServicesDeviceChannel::ReleasePresenceLease(std::string_view holder) {
    return services_.ReleasePresenceLease(holder);
}

}  // namespace otad::mqtt
