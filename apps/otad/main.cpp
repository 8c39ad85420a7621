// otad: a self-hosted OTA update server that speaks the Alibaba Cloud IoT OTA API.
//
//   otad serve [--listen HOST:PORT] [--data DIR] [--config FILE] [--log-level LEVEL]
//   otad account create --name NAME [--data DIR] [--access-key-id ID --access-key-secret S]
//   otad account list [--data DIR]
//   otad version
//
// This file is the composition root: it reads the configuration, picks the storage backend,
// wires the layers together and runs them.

#include "common/clock.hpp"
#include "common/log.hpp"
#include "config.hpp"
#include "domain/services.hpp"
#include "http/server.hpp"
#include "rpc/dispatcher.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <signal.h>
#include <string>
#include <vector>

namespace otad::app {
namespace {

constexpr std::string_view kUsage =
    "usage:\n"
    "  otad serve [--listen HOST:PORT] [--data DIR] [--config FILE] [--log-level LEVEL]\n"
    "  otad account create --name NAME [--data DIR] [--access-key-id ID "
    "--access-key-secret SECRET]\n"
    "  otad account list [--data DIR]\n"
    "  otad version\n"
    "\n"
    "serve prints 'listening on http://HOST:PORT' on stdout once it accepts connections.\n"
    "If ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET are set, serve makes\n"
    "sure an account with that AccessKey exists.\n";

int Fail(const std::string& message) {
    std::cerr << "otad: " << message << "\n";
    return 2;
}

// "--name value" pairs after the command words.
Result<std::map<std::string, std::string>> ParseFlags(const std::vector<std::string>& args,
                                                      size_t first,
                                                      const std::vector<std::string>& known) {
    std::map<std::string, std::string> flags;
    for (size_t i = first; i < args.size(); ++i) {
        std::string name = args[i];
        std::string value;
        if (!name.starts_with("--")) {
            return MakeError(ErrorCode::kInvalidParameter, "unexpected argument '" + name + "'");
        }
        name = name.substr(2);
        if (const size_t eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        } else {
            if (i + 1 >= args.size()) {
                return MakeError(ErrorCode::kInvalidParameter, "--" + name + " needs a value");
            }
            value = args[++i];
        }
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            return MakeError(ErrorCode::kInvalidParameter, "unknown option --" + name);
        }
        flags[name] = value;
    }
    return flags;
}

Result<std::unique_ptr<domain::Store>> OpenStore(const std::string& data_dir, bool sync_full) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(data_dir) / "files", ec);
    if (ec) {
        return MakeError(ErrorCode::kInternal,
                         "cannot create data directory " + data_dir + ": " + ec.message());
    }
    storage::sqlite::SqliteOptions options;
    options.path = (std::filesystem::path(data_dir) / "otad.db").string();
    options.synchronous_full = sync_full;
    return storage::sqlite::OpenSqliteStore(options);
}

std::string ErrorText(const Error& e) {
    std::string s = e.message.empty() ? std::string(ErrorCodeName(e.code)) : e.message;
    if (!e.internal.empty()) {
        s += " (" + e.internal + ")";
    }
    return s;
}

nlohmann::json AccountJson(const domain::AccountWithInstance& a, bool with_secret) {
    nlohmann::json j;
    j["Name"] = a.account.name;
    j["AccessKeyId"] = a.account.access_key_id;
    if (with_secret) {
        j["AccessKeySecret"] = a.account.access_key_secret;
    }
    j["IotInstanceId"] = a.instance.instance_id;
    j["Enabled"] = a.account.enabled;
    return j;
}

int AccountCommand(const std::vector<std::string>& args) {
    if (args.size() < 3) {
        return Fail(std::string("missing account command\n") + std::string(kUsage));
    }
    const std::string& sub = args[2];
    auto flags = ParseFlags(args, 3, {"name", "data", "access-key-id", "access-key-secret"});
    if (!flags.ok()) {
        return Fail(flags.error().message);
    }
    const std::string data_dir = flags->count("data") ? flags->at("data") : ".otad-data";
    auto store = OpenStore(data_dir, true);
    if (!store.ok()) {
        return Fail(ErrorText(store.error()));
    }
    domain::Services services(**store, SystemClock::Instance());
    if (sub == "create") {
        if (!flags->count("name")) {
            return Fail("account create needs --name NAME");
        }
        std::optional<std::pair<std::string, std::string>> key;
        if (flags->count("access-key-id") != flags->count("access-key-secret")) {
            return Fail("--access-key-id and --access-key-secret go together");
        }
        if (flags->count("access-key-id")) {
            key.emplace(flags->at("access-key-id"), flags->at("access-key-secret"));
        }
        auto created = services.CreateAccount(flags->at("name"), key);
        if (!created.ok()) {
            return Fail(ErrorText(created.error()));
        }
        std::cout << AccountJson(*created, true).dump() << std::endl;
        return 0;
    }
    if (sub == "list") {
        auto accounts = services.ListAccounts();
        if (!accounts.ok()) {
            return Fail(ErrorText(accounts.error()));
        }
        nlohmann::json out = nlohmann::json::array();
        for (const auto& a : *accounts) {
            out.push_back(AccountJson(a, false));
        }
        std::cout << out.dump() << std::endl;
        return 0;
    }
    return Fail("unknown account command '" + sub + "'\n" + std::string(kUsage));
}

// Makes sure the AccessKey from the SDKs' environment variables exists, so that one
// environment serves both the server and its clients.
Status EnsureEnvironmentAccount(domain::Services& services) {
    const char* id = std::getenv("ALIBABA_CLOUD_ACCESS_KEY_ID");
    const char* secret = std::getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET");
    if (id == nullptr || secret == nullptr || *id == '\0' || *secret == '\0') {
        return Ok();
    }
    OTA_ASSIGN_OR_RETURN(auto existing, services.FindAccountByAccessKey(id));
    if (existing) {
        if (existing->access_key_secret != secret) {
            log::Warn(
                "the account owning ALIBABA_CLOUD_ACCESS_KEY_ID has a different secret; "
                "it was left unchanged");
        }
        return Ok();
    }
    OTA_ASSIGN_OR_RETURN(
        auto created,
        services.CreateAccount(std::string("env-") + id, std::make_pair(std::string(id), secret)));
    log::Info("created account '" + created.account.name + "' for AccessKeyId " +
              created.account.access_key_id);
    return Ok();
}

int Serve(const std::vector<std::string>& args) {
    auto flags = ParseFlags(args, 2, {"listen", "data", "config", "log-level"});
    if (!flags.ok()) {
        return Fail(flags.error().message + "\n" + std::string(kUsage));
    }
    Config config;
    if (flags->count("config")) {
        if (Status st = LoadConfigFile(flags->at("config"), config); !st.ok()) {
            return Fail(st.error().message);
        }
    }
    if (flags->count("listen")) {
        config.listen = flags->at("listen");
    }
    if (flags->count("data")) {
        config.data_dir = flags->at("data");
    }
    if (flags->count("log-level") && !log::ParseLevel(flags->at("log-level"), config.log_level)) {
        return Fail("--log-level must be debug, info, warn, error or off");
    }
    log::SetLevel(config.log_level);
    if (Status st = ParseListen(config.listen, config.http.host, config.http.port); !st.ok()) {
        return Fail(st.error().message);
    }

    // Signals are taken synchronously by this thread; block them before any thread starts so
    // that none of the server's threads receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    auto store = OpenStore(config.data_dir, config.sqlite_synchronous_full);
    if (!store.ok()) {
        return Fail(ErrorText(store.error()));
    }
    const Clock& clock = SystemClock::Instance();
    domain::Services services(**store, clock);
    if (Status st = EnsureEnvironmentAccount(services); !st.ok()) {
        return Fail(ErrorText(st.error()));
    }
    rpc::Dispatcher dispatcher(services, clock, config.rpc);
    domain::Store& db = **store;

    http::Server server(config.http, [&](HttpRequest&& req) -> HttpResponse {
        if (req.Path() == "/healthz") {
            HttpResponse r;
            r.content_type = "application/json;charset=utf-8";
            if (Status st = db.Ping(); st.ok()) {
                r.body = R"({"status":"ok"})";
            } else {
                r.status = 503;
                r.body = R"({"status":"unavailable"})";
            }
            return r;
        }
        return dispatcher.Handle(req);
    });
    auto port = server.Start();
    if (!port.ok()) {
        return Fail(ErrorText(port.error()));
    }
    const bool v6 = config.http.host.find(':') != std::string::npos;
    const std::string shown = v6 ? "[" + config.http.host + "]" : config.http.host;
    std::printf("listening on http://%s:%u\n", shown.c_str(), static_cast<unsigned>(*port));
    std::fflush(stdout);
    log::Info("otad serving on " + shown + ":" + std::to_string(*port) + ", data in " +
              config.data_dir);

    int sig = 0;
    sigwait(&signals, &sig);
    log::Info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") +
              ", shutting down");
    server.Stop();
    log::Info("stopped");
    return 0;
}

}  // namespace
}  // namespace otad::app

int main(int argc, char** argv) {
    std::vector<std::string> args(argv, argv + argc);
    if (args.size() < 2 || args[1] == "help" || args[1] == "--help" || args[1] == "-h") {
        std::cout << otad::app::kUsage;
        return args.size() < 2 ? 2 : 0;
    }
    if (args[1] == "serve") {
        return otad::app::Serve(args);
    }
    if (args[1] == "account") {
        return otad::app::AccountCommand(args);
    }
    if (args[1] == "version" || args[1] == "--version") {
        std::cout << "otad " << OTAD_VERSION << "\n";
        return 0;
    }
    std::cerr << "otad: unknown command '" << args[1] << "'\n" << otad::app::kUsage;
    return 2;
}
