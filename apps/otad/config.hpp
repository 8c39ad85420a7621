#pragma once

#include "common/log.hpp"
#include "common/result.hpp"
#include "http/server.hpp"
#include "rpc/dispatcher.hpp"

#include <string>

namespace otad::app {

/// Everything `otad serve` can be told, from defaults, then the config file, then flags.
struct Config {
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = ".otad-data";
    log::Level log_level = log::Level::kInfo;
    http::ServerOptions http;
    rpc::DispatcherOptions rpc;
    bool sqlite_synchronous_full = true;
};

/// Reads a JSON config file over `config`. Unknown keys and wrong types are errors, so that a
/// typo never silently leaves a default in place.
Status LoadConfigFile(const std::string& path, Config& config);

/// Splits "HOST:PORT" or "[V6]:PORT" into `host` and `port`.
Status ParseListen(const std::string& text, std::string& host, uint16_t& port);

}  // namespace otad::app
