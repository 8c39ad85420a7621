#include "rpc/dispatcher.hpp"

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "rpc/error_mapping.hpp"
#include "rpc/render/writer.hpp"

#include <mutex>
#include <unordered_map>

namespace otad::rpc {
namespace {

constexpr std::string_view kVersion = "2018-01-20";

struct KeyEntry {
    int64_t account_id = 0;
    KeyInfo info;
    int64_t expires_ms = 0;
    /// The account's default instance, for requests without IotInstanceId.
    domain::Scope default_scope;
};

std::string_view ContentTypeOf(Format f) {
    return f == Format::kXml ? "text/xml;charset=utf-8" : "application/json;charset=utf-8";
}

// JSON unless the request asks for XML: Format=XML for V1, or an Accept header that names
// only XML. Absent Format answers JSON (see docs/decisions).
Result<Format> ChooseFormat(const HttpRequest& req, const ParamMap& params) {
    if (const std::string* f = params.Find("Format")) {
        if (EqualsIgnoreCase(*f, "JSON")) {
            return Format::kJson;
        }
        if (EqualsIgnoreCase(*f, "XML")) {
            return Format::kXml;
        }
        return MakeError(ErrorCode::kInvalidFormat);
    }
    if (const std::string* accept = req.FindHeader("accept")) {
        const bool xml = accept->find("xml") != std::string::npos;
        const bool json =
            accept->find("json") != std::string::npos || accept->find("*/*") != std::string::npos;
        if (xml && !json) {
            return Format::kXml;
        }
    }
    return Format::kJson;
}

HttpResponse Finish(Format format, std::string body, int status, const std::string& request_id) {
    HttpResponse r;
    r.status = status;
    r.content_type = std::string(ContentTypeOf(format));
    r.body = std::move(body);
    r.headers.push_back({"x-acs-request-id", request_id});
    r.log.request_id = request_id;
    return r;
}

}  // namespace

// AccessKeys read from the store, kept for a short time so that the hot path does not read the
// accounts table on every request.
class Dispatcher::KeyCache {
  public:
    KeyCache(int64_t ttl_ms, size_t max_entries) : ttl_ms_(ttl_ms), max_entries_(max_entries) {}

    std::optional<KeyEntry> Get(std::string_view key_id, int64_t now_ms) {
        std::lock_guard lock(mu_);
        auto it = entries_.find(std::string(key_id));
        if (it == entries_.end() || it->second.expires_ms <= now_ms) {
            return std::nullopt;
        }
        return it->second;
    }

    void Put(std::string_view key_id, KeyEntry entry, int64_t now_ms) {
        std::lock_guard lock(mu_);
        if (entries_.size() >= max_entries_) {
            std::erase_if(entries_, [&](const auto& kv) { return kv.second.expires_ms <= now_ms; });
            if (entries_.size() >= max_entries_) {
                entries_.clear();
            }
        }
        entry.expires_ms = now_ms + ttl_ms_;
        entries_[std::string(key_id)] = std::move(entry);
    }

  private:
    int64_t ttl_ms_;
    size_t max_entries_;
    std::mutex mu_;
    std::unordered_map<std::string, KeyEntry> entries_;  // guarded by mu_
};

Dispatcher::Dispatcher(domain::Services& services,
                       domain::FileService& files,
                       const Clock& clock,
                       DispatcherOptions options)
    : services_(services),
      files_(files),
      clock_(clock),
      options_(std::move(options)),
      own_nonces_(options_.nonce_store == nullptr ? std::make_unique<NonceCache>(options_.nonces)
                                                  : nullptr),
      own_throttle_(options_.rate_limiter == nullptr ? std::make_unique<Throttle>() : nullptr),
      nonces_(options_.nonce_store != nullptr ? *options_.nonce_store : *own_nonces_),
      limiter_(options_.rate_limiter != nullptr ? *options_.rate_limiter : *own_throttle_),
      verifier_(clock_, nonces_, options_.verifier),
      keys_(std::make_unique<KeyCache>(options_.key_cache_ttl_ms, options_.key_cache_max_entries)) {
    for (const ActionSpec& spec : AllActions()) {
        int64_t qps = spec.default_qps;
        if (auto it = options_.throttling.per_action_qps.find(spec.name);
            it != options_.throttling.per_action_qps.end()) {
            qps = it->second;
        }
        qps_.push_back(options_.throttling.enabled ? qps : 0);
    }
}

Dispatcher::~Dispatcher() = default;

int64_t Dispatcher::QpsOf(uint32_t action_index) const {
    return qps_.at(action_index);
}

HttpResponse Dispatcher::Handle(const HttpRequest& req) {
    const std::string request_id = crypto::RandomUuidUpper();
    Format format = Format::kJson;
    std::string action_name;
    std::string access_key_id;
    int64_t retry_after_ms = 0;

    auto render_error = [&](const Error& error) {
        const WireError wire = MapError(error);
        if (error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnavailable) {
            log::Error("request " + request_id +
                       " failed: " + std::string(ErrorCodeName(error.code)) +
                       (error.internal.empty() ? "" : ": " + error.internal));
        }
        ResponseWriter w(format);
        if (wire.gateway) {
            w.BeginRoot("Error");
            w.String("RequestId", request_id);
            const std::string* host = req.FindHeader("host");
            w.String("HostId", host != nullptr ? *host : std::string{});
            w.String("Code", wire.code);
            w.String("Message", wire.message);
            w.String("Recommend", "");
            w.EndRoot();
        } else {
            w.BeginRoot(action_name + "Response");
            w.String("RequestId", request_id);
            w.Bool("Success", false);
            w.String("Code", wire.code);
            w.String("ErrorMessage", wire.message);
            w.EndRoot();
        }
        HttpResponse r = Finish(format, std::move(w.body()), wire.http_status, request_id);
        if (retry_after_ms > 0) {
            r.headers.push_back({"x-acs-retry-after", std::to_string(retry_after_ms)});
        }
        r.log.action = action_name;
        r.log.access_key_id = access_key_id;
        r.log.code = wire.code;
        return r;
    };

    if (req.Path() != "/") {
        return render_error(MakeError(ErrorCode::kActionNotFound));
    }
    if (req.method != "GET" && req.method != "POST") {
        return render_error(MakeError(ErrorCode::kBadRequest, "Only GET and POST are accepted."));
    }
    auto params = ParamMap::FromRequest(
        req.Query(), req.FindHeader("content-type"), req.body, options_.param_limits);
    if (!params.ok()) {
        return render_error(params.error());
    }
    auto chosen = ChooseFormat(req, *params);
    if (!chosen.ok()) {
        return render_error(chosen.error());
    }
    format = *chosen;

    // Authentication.
    int64_t account_id = 0;
    domain::Scope default_scope;
    const int64_t now = clock_.NowMs();
    const SecretLookup lookup = [&](std::string_view key_id) -> Result<std::optional<KeyInfo>> {
        if (auto cached = keys_->Get(key_id, now)) {
            account_id = cached->account_id;
            default_scope = cached->default_scope;
            return std::optional<KeyInfo>(cached->info);
        }
        OTA_ASSIGN_OR_RETURN(auto account, services_.FindAccountByAccessKey(key_id));
        if (!account) {
            return std::optional<KeyInfo>{};
        }
        OTA_ASSIGN_OR_RETURN(default_scope, services_.ResolveScope(account->id, ""));
        KeyEntry entry{
            account->id, KeyInfo{account->access_key_secret, account->enabled}, 0, default_scope};
        keys_->Put(key_id, entry, now);
        account_id = account->id;
        return std::optional<KeyInfo>(entry.info);
    };
    auto auth = verifier_.Verify(req, *params, lookup);
    if (!auth.ok()) {
        return render_error(auth.error());
    }
    access_key_id = auth->access_key_id;

    // Routing.
    if (auth->version.empty()) {
        return render_error(MakeError(ErrorCode::kMissingVersion));
    }
    if (auth->version != kVersion) {
        return render_error(MakeError(ErrorCode::kInvalidVersion));
    }
    if (auth->action.empty()) {
        return render_error(MakeError(ErrorCode::kMissingAction));
    }
    const auto action_index = FindAction(auth->action);
    if (!action_index) {
        return render_error(MakeError(ErrorCode::kActionNotFound));
    }
    action_name = auth->action;
    const ActionSpec& spec = AllActions()[*action_index];

    retry_after_ms = limiter_.Acquire(account_id, *action_index, qps_[*action_index], now);
    if (retry_after_ms > 0) {
        return render_error(MakeError(ErrorCode::kThrottled));
    }

    // Requests without IotInstanceId use the default instance remembered with the key.
    const std::string instance = OptionalString(*params, "IotInstanceId");
    Result<domain::Scope> scope = instance.empty() ? Result<domain::Scope>(default_scope)
                                                   : services_.ResolveScope(account_id, instance);
    if (!scope.ok()) {
        return render_error(scope.error());
    }

    ResponseWriter w(format);
    w.BeginRoot(action_name + "Response");
    w.String("RequestId", request_id);
    w.Bool("Success", true);
    ActionContext ctx{*params, *scope, services_, files_, options_.env, w};
    Status st = Ok();
    try {
        st = spec.handler(ctx);
    } catch (const std::exception& e) {
        st = InternalError(std::string("unexpected exception: ") + e.what());
    }
    if (!st.ok()) {
        return render_error(st.error());
    }
    w.EndRoot();
    HttpResponse r = Finish(format, std::move(w.body()), 200, request_id);
    r.log.action = action_name;
    r.log.access_key_id = access_key_id;
    return r;
}

}  // namespace otad::rpc
