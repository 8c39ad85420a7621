#include "mqtt/broker_client.hpp"

#include "common/log.hpp"
#include "mqtt/alink_codec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <iterator>
#include <mosquitto.h>
#include <string_view>

namespace otad::mqtt {
namespace {

/// Largest payload MQTT can carry (the remaining-length field's limit, less headers).
constexpr size_t kMaxPublishBytes = 256 * 1024 * 1024 - 1024;
/// Network rounds spent flushing the DISCONNECT at Stop before giving up.
constexpr int kStopFlushRounds = 8;

std::once_flag g_library_once;

std::string MosquittoErrorText(int rc, int saved_errno) {
    if (rc == MOSQ_ERR_KEEPALIVE) {
        return "no answer within the keepalive interval";
    }
    if (rc == MOSQ_ERR_ERRNO && saved_errno != 0) {
        return std::strerror(saved_errno);
    }
    return mosquitto_strerror(rc);
}

}  // namespace

void BrokerClient::Deleter::operator()(mosquitto* m) const {
    mosquitto_destroy(m);
}

BrokerClient::BrokerClient(BrokerOptions options) : options_(std::move(options)) {
    for (const std::string_view filter : kUplinkFilters) {
        if (options_.shared_group.empty()) {
            filters_.emplace_back(filter);
        } else if (filter != kPresenceFilter) {
            filters_.push_back("$share/" + options_.shared_group + "/" + std::string(filter));
        }
    }
    // The library keeps process-wide state (OpenSSL, random source); it is set up once and
    // left in place until exit, since other clients may still use it.
    std::call_once(g_library_once, [] { mosquitto_lib_init(); });
}

BrokerClient::~BrokerClient() {
    Stop();
}

std::string BrokerClient::endpoint() const {
    const bool v6 = options_.host.find(':') != std::string::npos;
    return (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(options_.port);
}

Status BrokerClient::Start(BrokerListener& listener) {
    if (thread_.joinable() || mosq_) {
        return MakeError(ErrorCode::kInternal, "the broker client was already started");
    }
    if (options_.host.empty() || options_.client_id.empty() || options_.keepalive_s < 5 ||
        options_.port == 0) {
        return MakeError(ErrorCode::kInvalidParameter,
                         "mqtt: host, port and client id are required and keepalive must be at "
                         "least 5 s");
    }
    mosq_.reset(mosquitto_new(options_.client_id.c_str(), !options_.persistent_session, this));
    if (!mosq_) {
        return InternalError(std::string("mosquitto_new failed: ") + std::strerror(errno));
    }
    mosquitto* m = mosq_.get();
    int rc = mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    // The library queues packets and the network thread writes them; without this, Publish
    // from another thread would write to the socket itself.
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_threaded_set(m, true);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_max_inflight_messages_set(
            m, static_cast<unsigned>(std::max(1, options_.max_inflight)));
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_username_pw_set(
            m,
            options_.username.empty() ? nullptr : options_.username.c_str(),
            options_.password.empty() ? nullptr : options_.password.c_str());
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        mosq_.reset();
        return InternalError(std::string("configuring the MQTT client failed: ") +
                             mosquitto_strerror(rc));
    }
    mosquitto_connect_callback_set(m, &BrokerClient::HandleConnect);
    mosquitto_disconnect_callback_set(m, &BrokerClient::HandleDisconnect);
    mosquitto_message_callback_set(m, &BrokerClient::HandleMessage);
    mosquitto_publish_callback_set(m, &BrokerClient::HandlePublish);
    listener_ = &listener;
    stopping_.store(false);
    thread_ = std::thread([this] { Run(); });
    return Ok();
}

void BrokerClient::Stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_.store(true);
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

Status BrokerClient::Publish(const std::string& topic, const std::string& payload, int qos) {
    if (!mosq_ || stopping_.load() || !connected_.load(std::memory_order_relaxed)) {
        return MakeError(ErrorCode::kUnavailable, "not connected to the MQTT broker");
    }
    if (payload.size() > kMaxPublishBytes) {
        return MakeError(ErrorCode::kInvalidParameter, "MQTT payload too large");
    }
    if (unacked_.load(std::memory_order_relaxed) >= options_.max_unacked_publishes) {
        return MakeError(ErrorCode::kUnavailable, "too many messages waiting for the broker");
    }
    unacked_.fetch_add(1, std::memory_order_relaxed);
    const int rc = mosquitto_publish(mosq_.get(),
                                     nullptr,
                                     topic.c_str(),
                                     static_cast<int>(payload.size()),
                                     payload.data(),
                                     qos,
                                     /*retain=*/false);
    if (rc != MOSQ_ERR_SUCCESS) {
        unacked_.fetch_sub(1, std::memory_order_relaxed);
        const ErrorCode code =
            rc == MOSQ_ERR_INVAL ? ErrorCode::kInvalidParameter : ErrorCode::kUnavailable;
        return MakeError(code, std::string("MQTT publish failed: ") + mosquitto_strerror(rc));
    }
    return Ok();
}

Status BrokerClient::SubscribePresence(bool on) {
    if (options_.shared_group.empty()) {
        return MakeError(ErrorCode::kInvalidParameter,
                         "presence is subscribed on every connection without a shared group");
    }
    if (!mosq_ || stopping_.load() || !connected_.load(std::memory_order_relaxed)) {
        return MakeError(ErrorCode::kUnavailable, "not connected to the MQTT broker");
    }
    const std::string filter(kPresenceFilter);
    const int rc = on ? mosquitto_subscribe(mosq_.get(), nullptr, filter.c_str(), 1)
                      : mosquitto_unsubscribe(mosq_.get(), nullptr, filter.c_str());
    if (rc != MOSQ_ERR_SUCCESS) {
        return MakeError(ErrorCode::kUnavailable,
                         std::string(on ? "subscribing to" : "unsubscribing from") +
                             " device presence failed: " + mosquitto_strerror(rc));
    }
    return Ok();
}

void BrokerClient::Run() {
    auto delay = options_.reconnect_min;
    bool first = true;
    while (!stopping_.load()) {
        const bool accepted = RunConnection(first);
        first = false;
        if (stopping_.load()) {
            break;
        }
        if (accepted) {
            delay = options_.reconnect_min;
        }
        if (!WaitBeforeRetry(delay)) {
            break;
        }
        if (!accepted) {
            delay = std::min(delay * 2, options_.reconnect_max);
        }
    }
    DisconnectAndFlush();
}

bool BrokerClient::RunConnection(bool first) {
    mosquitto* m = mosq_.get();
    // The first attempt records host, port and keepalive in the client; later ones reuse them
    // (connecting afresh would also replace the pipe that Publish uses to wake this thread).
    errno = 0;
    int rc = first ? mosquitto_connect_async(
                         m, options_.host.c_str(), options_.port, options_.keepalive_s)
                   : mosquitto_reconnect_async(m);
    accepted_in_attempt_ = false;
    const int poll_ms = static_cast<int>(options_.poll_interval.count());
    while (rc == MOSQ_ERR_SUCCESS && !stopping_.load()) {
        errno = 0;
        rc = mosquitto_loop(m, poll_ms, 1);
    }
    const int saved_errno = errno;
    if (!accepted_in_attempt_ && !stopping_.load()) {
        log::Warn("cannot connect to MQTT broker " + endpoint() + ": " +
                  MosquittoErrorText(rc, saved_errno));
    }
    return accepted_in_attempt_;
}

bool BrokerClient::WaitBeforeRetry(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mu_);
    return !cv_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void BrokerClient::DisconnectAndFlush() {
    if (!mosq_) {
        return;
    }
    mosquitto* m = mosq_.get();
    if (mosquitto_disconnect(m) != MOSQ_ERR_SUCCESS) {
        return;
    }
    // The DISCONNECT goes out after whatever was queued before it; the library closes the
    // socket once it is written, and the loop then reports that there is no connection.
    for (int i = 0; i < kStopFlushRounds; ++i) {
        if (mosquitto_loop(m, static_cast<int>(options_.poll_interval.count()), 1) !=
            MOSQ_ERR_SUCCESS) {
            break;
        }
    }
}

void BrokerClient::HandleConnect(mosquitto* m, void* self_ptr, int rc) {
    auto* self = static_cast<BrokerClient*>(self_ptr);
    if (rc != 0) {
        log::Warn("MQTT broker " + self->endpoint() +
                  " refused the connection: " + mosquitto_connack_string(rc));
        return;
    }
    self->accepted_in_attempt_ = true;
    self->unacked_.store(0, std::memory_order_relaxed);
    self->connected_.store(true);
    log::Info("connected to MQTT broker " + self->endpoint() + " as " + self->options_.client_id);
    // The listener hears of the connection before any message that arrives on it: messages
    // are read by this same thread after the callback returns.
    try {
        self->listener_->OnConnected();
    } catch (const std::exception& e) {
        log::Error(std::string("device channel: connection handler failed: ") + e.what());
    }
    std::vector<char*> filters;
    filters.reserve(self->filters_.size());
    for (std::string& filter : self->filters_) {
        filters.push_back(filter.data());
    }
    const int sub = mosquitto_subscribe_multiple(
        m, nullptr, static_cast<int>(filters.size()), filters.data(), 1, 0, nullptr);
    if (sub != MOSQ_ERR_SUCCESS) {
        // Without the subscriptions the connection is useless; drop it and start over.
        log::Error(std::string("subscribing to the OTA topics failed: ") + mosquitto_strerror(sub));
        mosquitto_disconnect(m);
    }
}

void BrokerClient::HandleDisconnect(mosquitto* /*m*/, void* self_ptr, int rc) {
    auto* self = static_cast<BrokerClient*>(self_ptr);
    if (!self->connected_.exchange(false)) {
        return;  // a failed attempt; RunConnection reports it
    }
    if (self->stopping_.load()) {
        log::Info("disconnected from MQTT broker " + self->endpoint());
    } else {
        log::Warn("disconnected from MQTT broker " + self->endpoint() + ": " +
                  MosquittoErrorText(rc, errno));
    }
    try {
        self->listener_->OnDisconnected();
    } catch (const std::exception& e) {
        log::Error(std::string("device channel: disconnection handler failed: ") + e.what());
    }
}

void BrokerClient::HandleMessage(mosquitto* /*m*/, void* self_ptr, const mosquitto_message* msg) {
    auto* self = static_cast<BrokerClient*>(self_ptr);
    if (msg == nullptr || msg->topic == nullptr || msg->payloadlen < 0) {
        return;
    }
    const std::string_view payload(
        static_cast<const char*>(msg->payload),
        msg->payload == nullptr ? 0 : static_cast<size_t>(msg->payloadlen));
    try {
        self->listener_->OnMessage(msg->topic, payload);
    } catch (const std::exception& e) {
        log::Error(std::string("device channel: message handler failed: ") + e.what());
    }
}

void BrokerClient::HandlePublish(mosquitto* /*m*/, void* self_ptr, int /*mid*/) {
    auto* self = static_cast<BrokerClient*>(self_ptr);
    // Called when a QoS 0 message is written or a QoS 1 message is acknowledged. Messages
    // queued before a reconnect may complete after the count was reset, hence the floor.
    int64_t current = self->unacked_.load(std::memory_order_relaxed);
    while (current > 0 &&
           !self->unacked_.compare_exchange_weak(current, current - 1, std::memory_order_relaxed)) {
    }
}

}  // namespace otad::mqtt
