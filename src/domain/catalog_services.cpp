// Products, devices and device groups beyond their creation: lists, updates, deletions, batch
// registration, and the groups that GROUP batches target.

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "domain/service_helpers.hpp"
#include "domain/services.hpp"
#include "domain/validation.hpp"

#include <set>
#include <unordered_set>

namespace otad::domain {

using namespace detail;

namespace {

constexpr int64_t kMaxProductPageSize = 200;
constexpr int64_t kMaxDevicePageSize = 50;
constexpr int64_t kMaxGroupPageSize = 200;
constexpr int64_t kMaxBatchRegisterCount = 1000;
constexpr size_t kMaxGroupRelationsPerCall = 1000;
constexpr int64_t kMaxGroupsPerDevice = 10;
constexpr int64_t kMaxGroupsPerInstance = 1000;
constexpr int kMaxGroupDepth = 3;
constexpr size_t kMaxGroupDescChars = 100;
constexpr size_t kMaxExpressionBytes = 2048;
constexpr size_t kMaxExpressionConditions = 10;

// Group names: 4-30 characters of letters (CJK and kana count two), digits and '_'.
Status ValidateGroupName(std::string_view name) {
    size_t pos = 0;
    size_t width = 0;
    while (pos < name.size()) {
        const auto c = text::NextCodePoint(name, pos);
        if (!c || !(text::IsLetter(*c) || text::IsAsciiDigit(*c) || *c == '_')) {
            return MakeError(ErrorCode::kInvalidGroupName);
        }
        width += text::IsWide(*c) ? 2 : 1;
    }
    if (width < 4 || width > 30) {
        return MakeError(ErrorCode::kInvalidGroupName);
    }
    return Ok();
}

// ---- Dynamic group expressions -----------------------------------------------------------
//
// The rule of a dynamic group is a conjunction of conditions on device fields:
//   expression := condition { "and" condition }
//   condition  := field ( "=" | "!=" | "like" ) quoted-value
//   field      := product_key | device_name | nickname | status | firmware_version
//                 (camelCase spellings such as productKey are accepted too)
// Values are quoted with '"' or '\''; in a `like` pattern '%' matches any run of characters.
// Keywords are case-insensitive; values compare exactly.

enum class ExprField { kProductKey, kDeviceName, kNickname, kStatus, kFirmwareVersion };
enum class ExprOp { kEquals, kNotEquals, kLike };

struct Condition {
    ExprField field = ExprField::kProductKey;
    ExprOp op = ExprOp::kEquals;
    std::string value;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
        if (lower(a[i]) != lower(b[i])) {
            return false;
        }
    }
    return true;
}

std::optional<ExprField> ParseField(std::string_view word) {
    static constexpr std::pair<std::string_view, ExprField> kFields[] = {
        {"product_key", ExprField::kProductKey},
        {"productKey", ExprField::kProductKey},
        {"device_name", ExprField::kDeviceName},
        {"deviceName", ExprField::kDeviceName},
        {"nickname", ExprField::kNickname},
        {"status", ExprField::kStatus},
        {"firmware_version", ExprField::kFirmwareVersion},
        {"firmwareVersion", ExprField::kFirmwareVersion},
    };
    for (const auto& [name, field] : kFields) {
        if (EqualsIgnoreCase(word, name)) {
            return field;
        }
    }
    return std::nullopt;
}

class ExprLexer {
  public:
    explicit ExprLexer(std::string_view s) : s_(s) {}

    void SkipBlanks() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
            ++pos_;
        }
    }
    bool AtEnd() {
        SkipBlanks();
        return pos_ >= s_.size();
    }
    // A run of letters, digits and '_'.
    std::string_view Word() {
        SkipBlanks();
        const size_t start = pos_;
        while (pos_ < s_.size() &&
               (text::IsAsciiAlnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_')) {
            ++pos_;
        }
        return s_.substr(start, pos_ - start);
    }
    std::optional<ExprOp> Operator() {
        SkipBlanks();
        if (s_.substr(pos_).starts_with("!=")) {
            pos_ += 2;
            return ExprOp::kNotEquals;
        }
        if (s_.substr(pos_).starts_with("=")) {
            pos_ += 1;
            return ExprOp::kEquals;
        }
        if (EqualsIgnoreCase(Word(), "like")) {
            return ExprOp::kLike;
        }
        return std::nullopt;
    }
    std::optional<std::string> Quoted() {
        SkipBlanks();
        if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
            return std::nullopt;
        }
        const char quote = s_[pos_++];
        const size_t end = s_.find(quote, pos_);
        if (end == std::string_view::npos) {
            return std::nullopt;
        }
        std::string value(s_.substr(pos_, end - pos_));
        pos_ = end + 1;
        return value;
    }

  private:
    std::string_view s_;
    size_t pos_ = 0;
};

Result<std::vector<Condition>> ParseExpression(std::string_view expr) {
    const auto invalid = [] {
        return Invalid(
            "DynamicGroupExpression must be conditions such as product_key = \"a1...\" or "
            "device_name like \"light%\" joined by and.");
    };
    if (expr.size() > kMaxExpressionBytes || !text::IsValidUtf8(expr)) {
        return invalid();
    }
    ExprLexer lex(expr);
    std::vector<Condition> out;
    do {
        Condition c;
        const auto field = ParseField(lex.Word());
        if (!field) {
            return invalid();
        }
        c.field = *field;
        const auto op = lex.Operator();
        if (!op) {
            return invalid();
        }
        c.op = *op;
        auto value = lex.Quoted();
        if (!value) {
            return invalid();
        }
        c.value = std::move(*value);
        out.push_back(std::move(c));
        if (out.size() > kMaxExpressionConditions) {
            return invalid();
        }
        if (lex.AtEnd()) {
            return out;
        }
    } while (EqualsIgnoreCase(lex.Word(), "and"));
    return invalid();
}

// '%' matches any run of characters (also none); everything else matches itself.
bool LikeMatch(std::string_view s, std::string_view pattern) {
    size_t si = 0;
    size_t pi = 0;
    size_t star = std::string_view::npos;
    size_t mark = 0;
    while (si < s.size()) {
        if (pi < pattern.size() && pattern[pi] == '%') {
            star = pi++;
            mark = si;
        } else if (pi < pattern.size() && pattern[pi] == s[si]) {
            ++pi;
            ++si;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pattern.size() && pattern[pi] == '%') {
        ++pi;
    }
    return pi == pattern.size();
}

bool Matches(const std::vector<Condition>& conditions, const Device& d) {
    for (const Condition& c : conditions) {
        std::string_view v;
        switch (c.field) {
            case ExprField::kProductKey:
                v = d.product_key;
                break;
            case ExprField::kDeviceName:
                v = d.device_name;
                break;
            case ExprField::kNickname:
                v = d.nickname;
                break;
            case ExprField::kStatus:
                v = d.status;
                break;
            case ExprField::kFirmwareVersion:
                v = d.firmware_version;
                break;
        }
        bool ok = false;
        switch (c.op) {
            case ExprOp::kEquals:
                ok = v == c.value;
                break;
            case ExprOp::kNotEquals:
                ok = v != c.value;
                break;
            case ExprOp::kLike:
                ok = LikeMatch(v, c.value);
                break;
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

// Calls `fn` for every device of the scope that satisfies the rule. A rule that pins the
// product with `product_key =` only scans that product.
Status ForEachMatchingDevice(ReadTx& tx,
                             const Scope& scope,
                             const std::vector<Condition>& conditions,
                             const std::function<Status(const Device&)>& fn) {
    const auto visit = [&](const Device& d) -> Status {
        return Matches(conditions, d) ? fn(d) : Ok();
    };
    for (const Condition& c : conditions) {
        if (c.field == ExprField::kProductKey && c.op == ExprOp::kEquals) {
            return tx.ForEachDevice(scope, c.value, visit);
        }
    }
    constexpr int64_t kSlice = 200;
    for (int64_t offset = 0;; offset += kSlice) {
        std::vector<int64_t> counts;
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListProducts(scope, offset, kSlice, counts));
        for (const Product& p : page.items) {
            OTA_TRY(tx.ForEachDevice(scope, p.product_key, visit));
        }
        if (static_cast<int64_t>(page.items.size()) < kSlice) {
            return Ok();
        }
    }
}

void CountMember(const Device& d, GroupDetail& out) {
    ++out.device_count;
    if (d.status == "ONLINE") {
        ++out.device_online;
    }
    if (d.active_ms != 0 || d.status == "ONLINE" || d.status == "OFFLINE") {
        ++out.device_active;
    }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Products

Result<Page<ProductSummary>> Services::ListProducts(const Scope& scope,
                                                    int64_t current_page,
                                                    int64_t page_size) {
    OTA_TRY(CheckPage(current_page, page_size, kMaxProductPageSize));
    return ReadOne<Page<ProductSummary>>(store_, [&](ReadTx& tx) -> Result<Page<ProductSummary>> {
        std::vector<int64_t> counts;
        OTA_ASSIGN_OR_RETURN(
            auto page, tx.ListProducts(scope, (current_page - 1) * page_size, page_size, counts));
        Page<ProductSummary> out;
        out.total = page.total;
        out.items.reserve(page.items.size());
        for (size_t i = 0; i < page.items.size(); ++i) {
            out.items.push_back({std::move(page.items[i]), i < counts.size() ? counts[i] : 0});
        }
        return out;
    });
}

Status Services::UpdateProduct(const Scope& scope, const UpdateProductCommand& cmd) {
    OTA_TRY(ValidateProductName(cmd.product_name));
    if (cmd.description) {
        OTA_TRY(ValidateProductDescription(*cmd.description));
    }
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, cmd.product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        if (product->product_name != cmd.product_name) {
            OTA_ASSIGN_OR_RETURN(bool taken, tx.ProductNameExists(scope, cmd.product_name));
            if (taken) {
                return MakeError(ErrorCode::kProductNameExists);
            }
        }
        product->product_name = cmd.product_name;
        if (cmd.description) {
            product->description = *cmd.description;
        }
        return tx.UpdateProduct(scope, *product);
    });
}

Status Services::DeleteProduct(const Scope& scope, std::string_view product_key) {
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(int64_t devices, tx.CountDevices(scope, product_key));
        if (devices > 0) {
            return MakeError(ErrorCode::kProductHasDevices);
        }
        return tx.DeleteProduct(scope, product_key);
    });
}

// ---------------------------------------------------------------------------------------------
// Devices

Result<Page<Device>> Services::QueryDevices(const Scope& scope,
                                            std::string_view product_key,
                                            int64_t current_page,
                                            int64_t page_size) {
    OTA_TRY(CheckPage(current_page, page_size, kMaxDevicePageSize));
    return ReadOne<Page<Device>>(store_, [&](ReadTx& tx) -> Result<Page<Device>> {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        return tx.ListDevices(scope, product_key, (current_page - 1) * page_size, page_size);
    });
}

Status Services::DeleteDevice(const Scope& scope, const DeviceRef& ref) {
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(const Device device, FindDeviceRef(tx, scope, ref));
        // Unfinished updates of a device that no longer exists can never finish: cancel them
        // and let their batches settle (a batch whose last open task this was completes).
        OTA_ASSIGN_OR_RETURN(auto pending, tx.ListUnfinishedTasksOfDevice(scope, device.iot_id));
        std::set<std::string> jobs;
        for (Task& task : pending) {
            jobs.insert(task.job_id);
            OTA_TRY(CancelTask(tx, scope, std::move(task), "device deleted", now));
        }
        for (const std::string& job_id : jobs) {
            OTA_TRY(SettleJob(tx, scope, job_id, now));
        }
        return tx.DeleteDevice(scope, device.iot_id);
    });
}

Result<int64_t> Services::BatchRegisterDevice(const Scope& scope,
                                              std::string_view product_key,
                                              int64_t count) {
    if (count < 1 || count > kMaxBatchRegisterCount) {
        return Invalid("Count must be between 1 and " + std::to_string(kMaxBatchRegisterCount) +
                       ".");
    }
    const int64_t now = clock_.NowMs();
    int64_t apply_id = 0;
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(int64_t existing, tx.CountDevices(scope, product_key));
        if (existing + count > limits_.max_devices_per_product) {
            return MakeError(ErrorCode::kDeviceQuotaExceeded);
        }
        OTA_ASSIGN_OR_RETURN(apply_id, tx.NextApplyId());
        BatchRegistration r;
        r.apply_id = apply_id;
        r.product_key = std::string(product_key);
        r.count = count;
        r.created_ms = now;
        r.modified_ms = now;
        // The devices are created right here, so the registration is recorded as finished.
        r.status = "CREATE_SUCCESS";
        std::unordered_set<std::string> names;
        while (static_cast<int64_t>(r.valid_names.size()) < count) {
            Device d;
            d.device_name = crypto::RandomBase62(20);
            OTA_ASSIGN_OR_RETURN(auto clash, tx.FindDevice(scope, product_key, d.device_name));
            if (clash || !names.insert(d.device_name).second) {
                continue;  // a random name that happens to be taken: draw another
            }
            d.iot_id = NewIotId();
            d.product_key = std::string(product_key);
            d.device_secret = crypto::RandomBase62(32);
            d.status = "UNACTIVE";
            d.created_ms = now;
            d.modified_ms = now;
            OTA_TRY(tx.InsertDevice(scope, d));
            r.valid_names.push_back(std::move(d.device_name));
        }
        return tx.InsertBatchRegistration(scope, r);
    }));
    return apply_id;
}

Result<BatchRegistration> Services::QueryBatchRegistration(const Scope& scope,
                                                           std::string_view product_key,
                                                           int64_t apply_id) {
    return ReadOne<BatchRegistration>(store_, [&](ReadTx& tx) -> Result<BatchRegistration> {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(auto r, tx.FindBatchRegistration(scope, product_key, apply_id));
        if (!r) {
            return MakeError(ErrorCode::kApplyNotFound);
        }
        return std::move(*r);
    });
}

// ---------------------------------------------------------------------------------------------
// Groups

Result<Group> Services::CreateGroup(const Scope& scope, const CreateGroupCommand& cmd) {
    OTA_TRY(ValidateGroupName(cmd.group_name));
    const auto desc_len = text::CodePointCount(cmd.group_desc);
    if (!desc_len || *desc_len > kMaxGroupDescChars) {
        return MakeError(ErrorCode::kLongGroupDesc);
    }
    Group g;
    g.group_id = NewGroupId();
    g.group_name = cmd.group_name;
    g.group_desc = cmd.group_desc;
    g.group_type = cmd.group_type;
    g.created_ms = clock_.NowMs();
    if (cmd.group_type == GroupType::kDynamic) {
        if (!cmd.super_group_id.empty()) {
            return Invalid("A dynamic group cannot have a parent group.");
        }
        OTA_TRY(ParseExpression(cmd.dynamic_expression));
        g.dynamic_expression = cmd.dynamic_expression;
    } else if (!cmd.dynamic_expression.empty()) {
        return Invalid("Only dynamic groups have a DynamicGroupExpression.");
    }
    g.super_group_id = cmd.super_group_id;

    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        if (!g.super_group_id.empty()) {
            // Groups nest at most kMaxGroupDepth levels deep, under static groups only.
            std::string parent_id = g.super_group_id;
            for (int depth = 1; !parent_id.empty(); ++depth) {
                OTA_ASSIGN_OR_RETURN(auto parent, tx.FindGroup(scope, parent_id));
                if (!parent) {
                    return MakeError(ErrorCode::kGroupNotFound);
                }
                if (parent->group_type != GroupType::kStatic) {
                    return Invalid("Sub-groups can only be created under static groups.");
                }
                if (depth >= kMaxGroupDepth) {
                    return Invalid("Groups nest at most " + std::to_string(kMaxGroupDepth) +
                                   " levels deep.");
                }
                parent_id = parent->super_group_id;
            }
        }
        OTA_ASSIGN_OR_RETURN(bool taken, tx.GroupNameExists(scope, g.group_name));
        if (taken) {
            return MakeError(ErrorCode::kGroupNameExists);
        }
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountGroups(scope));
        if (count >= kMaxGroupsPerInstance) {
            return MakeError(ErrorCode::kGroupQuotaExceeded);
        }
        return tx.InsertGroup(scope, g);
    }));
    return g;
}

Status Services::DeleteGroup(const Scope& scope, std::string_view group_id) {
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(scope, group_id));
        if (!group) {
            return MakeError(ErrorCode::kGroupNotFound);
        }
        OTA_ASSIGN_OR_RETURN(int64_t children, tx.CountSubGroups(scope, group_id));
        if (children > 0) {
            return MakeError(ErrorCode::kSubGroupNotNull);
        }
        return tx.DeleteGroup(scope, group_id);
    });
}

Result<GroupRelationResult> Services::AddDevicesToGroup(const Scope& scope,
                                                        std::string_view group_id,
                                                        const std::vector<DeviceRef>& devices) {
    if (devices.empty()) {
        return MissingParam("Device");
    }
    if (devices.size() > kMaxGroupRelationsPerCall) {
        return Invalid("At most " + std::to_string(kMaxGroupRelationsPerCall) +
                       " devices can be added in one call.");
    }
    GroupRelationResult out;
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(scope, group_id));
        if (!group) {
            return MakeError(ErrorCode::kGroupNotFound);
        }
        if (group->group_type != GroupType::kStatic) {
            return Invalid("Devices can only be added to static groups.");
        }
        for (const DeviceRef& ref : devices) {
            // Names that do not denote a device of the caller are skipped, not fatal: the
            // counts tell the caller how many were usable.
            std::optional<Device> device;
            if (!ref.iot_id.empty()) {
                OTA_ASSIGN_OR_RETURN(device, tx.FindDeviceByIotId(scope, ref.iot_id));
            } else {
                OTA_ASSIGN_OR_RETURN(device,
                                     tx.FindDevice(scope, ref.product_key, ref.device_name));
            }
            if (!device) {
                continue;
            }
            ++out.valid_device_count;
            OTA_ASSIGN_OR_RETURN(bool member, tx.IsGroupMember(scope, group_id, device->iot_id));
            if (member) {
                ++out.already_related_device_count;
                continue;
            }
            OTA_ASSIGN_OR_RETURN(int64_t groups, tx.CountGroupsOfDevice(scope, device->iot_id));
            if (groups >= kMaxGroupsPerDevice) {
                ++out.exceed_ten_group_device_count;
                continue;
            }
            OTA_ASSIGN_OR_RETURN(bool added, tx.AddGroupMember(scope, group_id, device->iot_id));
            if (added) {
                ++out.success_added_device_count;
            } else {
                ++out.already_related_device_count;
            }
        }
        return Ok();
    }));
    return out;
}

Result<Page<Group>> Services::ListGroups(const Scope& scope, const GroupListQuery& query) {
    OTA_TRY(CheckPage(query.current_page, query.page_size, kMaxGroupPageSize));
    return ReadOne<Page<Group>>(store_, [&](ReadTx& tx) -> Result<Page<Group>> {
        return tx.ListGroups(scope,
                             query.name_fragment,
                             query.super_group_id,
                             query.types,
                             (query.current_page - 1) * query.page_size,
                             query.page_size);
    });
}

Result<GroupDetail> Services::QueryGroup(const Scope& scope, std::string_view group_id) {
    return ReadOne<GroupDetail>(store_, [&](ReadTx& tx) -> Result<GroupDetail> {
        OTA_ASSIGN_OR_RETURN(auto group, tx.FindGroup(scope, group_id));
        if (!group) {
            return MakeError(ErrorCode::kGroupNotFound);
        }
        GroupDetail out;
        out.group = std::move(*group);
        const auto count = [&](const Device& d) -> Status {
            CountMember(d, out);
            return Ok();
        };
        if (out.group.group_type == GroupType::kStatic) {
            OTA_TRY(tx.ForEachGroupMember(scope, group_id, count));
        } else {
            // Membership of a dynamic group is whatever satisfies its rule right now.
            OTA_ASSIGN_OR_RETURN(const auto conditions,
                                 ParseExpression(out.group.dynamic_expression));
            OTA_TRY(ForEachMatchingDevice(tx, scope, conditions, count));
        }
        return out;
    });
}

namespace detail {

Status ForEachGroupDevice(ReadTx& tx,
                          const Scope& scope,
                          const Group& group,
                          const std::function<Status(const Device&)>& fn) {
    if (group.group_type == GroupType::kStatic) {
        return tx.ForEachGroupMember(scope, group.group_id, fn);
    }
    OTA_ASSIGN_OR_RETURN(auto conditions, ParseExpression(group.dynamic_expression));
    return ForEachMatchingDevice(tx, scope, conditions, fn);
}

}  // namespace detail

}  // namespace otad::domain
