// The C entry points Mosquitto looks up in the plugin (plugin interface version 5). They
// register one callback per event and forward it to AlinkBroker; no C++ exception crosses back
// into the broker.

#include "alink_broker.hpp"

#include <exception>
#include <memory>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <new>

namespace otad::broker_plugin {
namespace {

// What a callback answers when the handler failed unexpectedly: refuse, never allow.
int Failed(int event, const char* what) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "otad-auth: event %d failed: %s", event, what);
    switch (event) {
        case MOSQ_EVT_BASIC_AUTH:
            return MOSQ_ERR_AUTH;
        case MOSQ_EVT_ACL_CHECK:
        case MOSQ_EVT_MESSAGE:
            return MOSQ_ERR_ACL_DENIED;
        default:
            return MOSQ_ERR_SUCCESS;
    }
}

int Dispatch(int event, void* event_data, void* userdata) {
    auto* broker = static_cast<AlinkBroker*>(userdata);
    try {
        switch (event) {
            case MOSQ_EVT_BASIC_AUTH:
                return broker->OnBasicAuth(*static_cast<mosquitto_evt_basic_auth*>(event_data));
            case MOSQ_EVT_ACL_CHECK:
                return broker->OnAclCheck(*static_cast<mosquitto_evt_acl_check*>(event_data));
            case MOSQ_EVT_MESSAGE:
                return broker->OnMessage(*static_cast<mosquitto_evt_message*>(event_data));
            case MOSQ_EVT_DISCONNECT:
                return broker->OnDisconnect(*static_cast<mosquitto_evt_disconnect*>(event_data));
            default:
                return MOSQ_ERR_PLUGIN_DEFER;
        }
    } catch (const std::exception& e) {
        return Failed(event, e.what());
    } catch (...) {
        return Failed(event, "unknown exception");
    }
}

constexpr int kEvents[] = {
    MOSQ_EVT_BASIC_AUTH,
    MOSQ_EVT_ACL_CHECK,
    MOSQ_EVT_MESSAGE,
    MOSQ_EVT_DISCONNECT,
};

// Kept for cleanup, which Mosquitto calls without the identifier.
struct PluginInstance {
    mosquitto_plugin_id_t* identifier = nullptr;
    std::unique_ptr<AlinkBroker> broker;
};

void Unregister(PluginInstance& instance) {
    for (int event : kEvents) {
        mosquitto_callback_unregister(instance.identifier, event, Dispatch, nullptr);
    }
}

}  // namespace
}  // namespace otad::broker_plugin

using otad::broker_plugin::PluginInstance;

// The plugin is built with hidden visibility; these three are the only exported symbols.
extern "C" __attribute__((visibility("default"))) int mosquitto_plugin_version(
    int supported_version_count, const int* supported_versions) {
    for (int i = 0; i < supported_version_count; ++i) {
        if (supported_versions[i] == MOSQ_PLUGIN_VERSION) {
            return MOSQ_PLUGIN_VERSION;
        }
    }
    return -1;
}

extern "C" __attribute__((visibility("default"))) int mosquitto_plugin_init(
    mosquitto_plugin_id_t* identifier, void** userdata, mosquitto_opt* options, int option_count) {
    using namespace otad::broker_plugin;
    try {
        otad::Result<PluginConfig> config = ParsePluginOptions(options, option_count);
        if (!config.ok()) {
            mosquitto_log_printf(MOSQ_LOG_ERR, "otad-auth: %s", config.error().internal.c_str());
            return MOSQ_ERR_INVAL;
        }
        auto instance = std::make_unique<PluginInstance>();
        instance->identifier = identifier;
        instance->broker = std::make_unique<AlinkBroker>(std::move(config).value());
        for (int event : kEvents) {
            int rc = mosquitto_callback_register(
                identifier, event, Dispatch, nullptr, instance->broker.get());
            if (rc != MOSQ_ERR_SUCCESS) {
                mosquitto_log_printf(
                    MOSQ_LOG_ERR, "otad-auth: cannot register event %d (error %d)", event, rc);
                Unregister(*instance);
                return rc;
            }
        }
        *userdata = instance.release();
        mosquitto_log_printf(MOSQ_LOG_INFO, "otad-auth: ready");
        return MOSQ_ERR_SUCCESS;
    } catch (const std::bad_alloc&) {
        return MOSQ_ERR_NOMEM;
    } catch (const std::exception& e) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "otad-auth: init failed: %s", e.what());
        return MOSQ_ERR_UNKNOWN;
    }
}

extern "C" __attribute__((visibility("default"))) int mosquitto_plugin_cleanup(
    void* userdata, mosquitto_opt* /*options*/, int /*option_count*/) {
    std::unique_ptr<PluginInstance> instance(static_cast<PluginInstance*>(userdata));
    if (instance != nullptr) {
        otad::broker_plugin::Unregister(*instance);
    }
    return MOSQ_ERR_SUCCESS;
}
