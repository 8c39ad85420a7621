#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

// How a device logs in to the Alink MQTT endpoint and which topics it may use: pure functions,
// shared by the broker plugin and by tests. No I/O; the caller looks the device secret up.

namespace otad::mqtt {

/// Longest MQTT client id accepted from a device. The SDKs send about 110 bytes; the platform
/// documents at most 64 characters for the free part alone.
inline constexpr size_t kMaxClientIdBytes = 512;
/// Longest free part (`<id>`, before the first bar) of a client id.
inline constexpr size_t kMaxClientIdPrefixBytes = 128;
/// Most `k=v` items between the bars of a client id.
inline constexpr size_t kMaxClientIdParams = 32;
/// Longest ProductKey or DeviceName taken from a username or a topic.
inline constexpr size_t kMaxNameBytes = 64;
/// Longest `timestamp` value (decimal milliseconds).
inline constexpr size_t kMaxTimestampDigits = 20;

/// HMAC hash a device signs its password with (`signmethod` in the client id).
enum class SignMethod { kHmacSha256, kHmacSha1, kHmacMd5 };

/// The parts of an Alink client id `<id>|k=v,k=v,...|` that enter the password.
struct AlinkClientId {
    std::string prefix;  ///< `<id>`: everything before the first bar, possibly empty
    SignMethod sign_method = SignMethod::kHmacMd5;
    std::optional<std::string> timestamp;  ///< digits only; absent when the id carries none
};

/// Parses a device's client id. Unknown items between the bars (`_v`, `_ss`, `ext`, `lan`, `gw`,
/// `_conn`, `securemode`, ...) are ignored; empty items (a trailing comma) are allowed.
/// `signmethod` defaults to hmacmd5 when absent and is matched ignoring ASCII case.
///
/// Nothing when: the id is longer than kMaxClientIdBytes, has no bar or does not end with one,
/// has a prefix longer than kMaxClientIdPrefixBytes, more than kMaxClientIdParams items, an item
/// without `=`, `signmethod` or `timestamp` twice, an unknown `signmethod`, or a `timestamp`
/// that is empty, not all digits or longer than kMaxTimestampDigits.
std::optional<AlinkClientId> ParseClientId(std::string_view client_id);

/// A device, as ProductKey and DeviceName.
struct DeviceIdentity {
    std::string product_key;
    std::string device_name;

    bool operator==(const DeviceIdentity&) const = default;
};

/// Parses the username `${DeviceName}&${ProductKey}`. Nothing unless there is exactly one `&`,
/// both sides are non-empty, at most kMaxNameBytes long and free of `/`, `+`, `#` and NUL
/// (characters that would let a name escape its topic level).
std::optional<DeviceIdentity> ParseUsername(std::string_view username);

/// Lower-case hex HMAC the device must send as its password:
/// HMAC(DeviceSecret, "clientId<prefix>deviceName<dn>productKey<pk>[timestamp<ts>]").
std::string ExpectedPassword(const AlinkClientId& client_id,
                             const DeviceIdentity& device,
                             std::string_view device_secret);

/// True when `given` is `expected_lower_hex` in any letter case. Takes the same time for every
/// `given` of the expected length, so the comparison leaks nothing about the expected value.
bool PasswordMatches(std::string_view expected_lower_hex, std::string_view given);

/// Outcome of checking a device's CONNECT credentials against its secret.
enum class LoginCheck {
    kOk,
    kBadClientId,  ///< ParseClientId refused the client id
    kBadPassword,  ///< the password is not the expected HMAC
};

/// Checks a device login: parses the client id, computes the expected password and compares.
/// No timestamp freshness check: the C SDKs sign with a fixed timestamp in 2050.
LoginCheck CheckDeviceLogin(std::string_view client_id,
                            const DeviceIdentity& device,
                            std::string_view device_secret,
                            std::string_view password);

/// True when a device may publish on `topic` (or receive a message published on it): the topic
/// carries the device's own ProductKey and DeviceName in one of the Alink places
/// `/sys/${pk}/${dn}/...`, `/ota/device/<kind>/${pk}/${dn}`, `/shadow/<kind>/${pk}/${dn}`,
/// `/ext/session/${pk}/${dn}/...`, `/${pk}/${dn}/user/...`. A topic with `+` or `#` is refused.
bool DeviceMayPublish(const DeviceIdentity& device, std::string_view topic);

/// True when a device may subscribe to `filter`: as DeviceMayPublish, but `+` may stand for
/// `<kind>` or for a level of the free tail, and `#` may end the free tail; the levels that name
/// the device (and the fixed words before them) must be literal, so no wildcard reaches another
/// device's topics.
bool DeviceMaySubscribe(const DeviceIdentity& device, std::string_view filter);

/// When `topic` is one the server publishes to a single device and that device's SDK may not
/// subscribe to (the platform delivers it by "auto-subscription"), the addressed device:
/// `/ota/device/upgrade/${pk}/${dn}`, `/ota/device/request/${pk}/${dn}` (the reply direction of
/// the legacy pull), `/sys/${pk}/${dn}/thing/ota/firmware/get_reply`,
/// `/sys/${pk}/${dn}/thing/file/download_reply`, `/sys/${pk}/${dn}/thing/config/push`,
/// `/sys/${pk}/${dn}/thing/config/get_reply`. Nothing for any other topic, or when the names
/// are empty, too long or contain wildcards.
std::optional<DeviceIdentity> DeviceDownlinkTarget(std::string_view topic);

/// `/as/mqtt/status/${pk}/${dn}`: where the broker announces a device's online state.
std::string PresenceTopic(const DeviceIdentity& device);

}  // namespace otad::mqtt
