#include "mqtt/services_channel.hpp"

namespace otad::mqtt {

Result<domain::DeviceEventOutcome> ServicesDeviceChannel::ApplyDeviceEvents(
    const std::vector<domain::DeviceEvent>& events) {
    return services_.ApplyDeviceEvents(events);
}

Result<std::vector<domain::UpgradeNotice>> ServicesDeviceChannel::TakeDuePushes(int64_t limit) {
    return services_.TakeDuePushes(limit);
}

Status ServicesDeviceChannel::ResetPresence() {
    return services_.ResetPresence();
}

}  // namespace otad::mqtt
