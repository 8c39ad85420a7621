#include "rpc/params/params.hpp"

#include "common/text.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

namespace otad::rpc {
namespace {

constexpr std::string_view kFormMediaType = "application/x-www-form-urlencoded";
// Enough for any list a request can carry (ParamLimits::max_count is far smaller) and small
// enough that the number always fits in 32 bits.
constexpr size_t kMaxIndexDigits = 9;

int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

char AsciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool NameLess(const Param& a, const Param& b) {
    return a.name < b.name;
}

// Sorts by name and keeps, for each name, the value that came last in the input.
void SortKeepLast(std::vector<Param>& params) {
    if (!std::is_sorted(params.begin(), params.end(), NameLess)) {
        std::stable_sort(params.begin(), params.end(), NameLess);
    }
    size_t write = 0;
    for (size_t read = 0; read < params.size(); ++read) {
        if (read + 1 < params.size() && params[read + 1].name == params[read].name) {
            continue;
        }
        if (write != read) {
            params[write] = std::move(params[read]);
        }
        ++write;
    }
    params.erase(params.begin() + static_cast<std::ptrdiff_t>(write), params.end());
}

// A list index: decimal, 1 or more, no sign and no leading zero, so that every index has one
// spelling and "Tag.1" / "Tag.01" cannot both claim element 1.
std::optional<uint32_t> ParseIndex(std::string_view digits) {
    if (digits.empty() || digits.size() > kMaxIndexDigits || digits.front() == '0') {
        return std::nullopt;
    }
    uint32_t n = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        n = n * 10 + static_cast<uint32_t>(c - '0');
    }
    return n;
}

// The run of parameters whose names start with `prefix` + '.'; contiguous because the vector is
// sorted by name.
struct PrefixRange {
    std::vector<Param>::const_iterator begin;
    std::vector<Param>::const_iterator end;
    size_t key_size;
};

PrefixRange FindPrefix(const std::vector<Param>& sorted, std::string_view prefix) {
    std::string key;
    key.reserve(prefix.size() + 1);
    key.append(prefix);
    key.push_back('.');
    auto first = std::lower_bound(
        sorted.begin(), sorted.end(), key, [](const Param& p, const std::string& k) {
            return p.name < k;
        });
    auto last = first;
    while (last != sorted.end() && std::string_view(last->name).starts_with(key)) {
        ++last;
    }
    return {first, last, key.size()};
}

// Splits "N.Field" into the index and the field; nothing when it is not of that shape.
std::optional<std::pair<uint32_t, std::string_view>> SplitObjectEntry(std::string_view rest) {
    const size_t dot = rest.find('.');
    if (dot == std::string_view::npos || dot + 1 == rest.size()) {
        return std::nullopt;
    }
    const std::optional<uint32_t> index = ParseIndex(rest.substr(0, dot));
    if (!index) {
        return std::nullopt;
    }
    return std::make_pair(*index, rest.substr(dot + 1));
}

}  // namespace

bool FormDecode(std::string_view in, std::string& out) {
    out.clear();
    if (in.find_first_of("%+") == std::string_view::npos) {
        out.assign(in);
        return true;
    }
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '+') {
            out.push_back(' ');
        } else if (c == '%') {
            if (i + 2 >= in.size()) {
                return false;
            }
            const int hi = HexValue(in[i + 1]);
            const int lo = HexValue(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else {
            out.push_back(c);
        }
    }
    return true;
}

Result<std::vector<Param>> DecodeForm(std::string_view text, const ParamLimits& limits) {
    std::vector<Param> params;
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t amp = text.find('&', pos);
        if (amp == std::string_view::npos) {
            amp = text.size();
        }
        const std::string_view item = text.substr(pos, amp - pos);
        pos = amp + 1;
        if (item.empty()) {
            continue;
        }
        if (params.size() >= limits.max_count) {
            return InvalidParam({},
                                "too many request parameters (at most " +
                                    std::to_string(limits.max_count) + " are accepted)");
        }
        const size_t eq = item.find('=');
        const std::string_view raw_name = item.substr(0, eq);
        const std::string_view raw_value =
            eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        Param& p = params.emplace_back();
        if (!FormDecode(raw_name, p.name)) {
            return InvalidParam({}, "malformed percent-escape in a parameter name");
        }
        if (p.name.size() > limits.max_name_bytes) {
            return InvalidParam(
                {},
                "parameter name longer than " + std::to_string(limits.max_name_bytes) + " bytes");
        }
        if (!FormDecode(raw_value, p.value)) {
            return InvalidParam(p.name, "malformed percent-escape in the value of " + p.name);
        }
        if (p.value.size() > limits.max_value_bytes) {
            return InvalidParam(p.name,
                                "value of " + p.name + " longer than " +
                                    std::to_string(limits.max_value_bytes) + " bytes");
        }
    }
    return params;
}

bool IsFormUrlEncoded(std::string_view content_type) {
    const size_t semicolon = content_type.find(';');
    const std::string_view media = text::TrimBlanks(content_type.substr(0, semicolon));
    if (media.size() != kFormMediaType.size()) {
        return false;
    }
    for (size_t i = 0; i < media.size(); ++i) {
        if (AsciiLower(media[i]) != kFormMediaType[i]) {
            return false;
        }
    }
    return true;
}

Result<ParamMap> ParamMap::FromRequest(std::string_view query,
                                       const std::string* content_type,
                                       std::string_view body,
                                       const ParamLimits& limits) {
    ParamMap map;
    OTA_ASSIGN_OR_RETURN(map.query_, DecodeForm(query, limits));
    const size_t query_items = map.query_.size();
    SortKeepLast(map.query_);

    if (body.empty() || content_type == nullptr || !IsFormUrlEncoded(*content_type)) {
        return map;
    }
    ParamLimits body_limits = limits;
    body_limits.max_count = limits.max_count - query_items;
    OTA_ASSIGN_OR_RETURN(std::vector<Param> body_params, DecodeForm(body, body_limits));
    SortKeepLast(body_params);
    if (body_params.empty()) {
        return map;
    }

    map.body_count_ = body_params.size();
    map.merged_.reserve(map.query_.size() + body_params.size());
    auto q = map.query_.cbegin();
    auto b = body_params.begin();
    while (q != map.query_.cend() || b != body_params.end()) {
        if (b == body_params.end() || (q != map.query_.cend() && q->name < b->name)) {
            map.merged_.push_back(*q++);
        } else {
            if (q != map.query_.cend() && q->name == b->name) {
                ++q;  // the body value wins
            }
            map.merged_.push_back(std::move(*b++));
        }
    }
    return map;
}

const std::string* ParamMap::Find(std::string_view name) const {
    const std::vector<Param>& sorted = Sorted();
    auto it = std::lower_bound(
        sorted.begin(), sorted.end(), name, [](const Param& p, std::string_view n) {
            return std::string_view(p.name) < n;
        });
    if (it == sorted.end() || it->name != name) {
        return nullptr;
    }
    return &it->value;
}

std::vector<std::string> ParamMap::List(std::string_view prefix) const {
    const PrefixRange range = FindPrefix(Sorted(), prefix);
    std::vector<std::pair<uint32_t, const std::string*>> items;
    for (auto it = range.begin; it != range.end; ++it) {
        if (auto index = ParseIndex(std::string_view(it->name).substr(range.key_size))) {
            items.emplace_back(*index, &it->value);
        }
    }
    std::sort(
        items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::string> values;
    values.reserve(items.size());
    for (const auto& item : items) {
        values.push_back(*item.second);
    }
    return values;
}

size_t ParamMap::ListCount(std::string_view prefix) const {
    const PrefixRange range = FindPrefix(Sorted(), prefix);
    size_t count = 0;
    for (auto it = range.begin; it != range.end; ++it) {
        if (ParseIndex(std::string_view(it->name).substr(range.key_size))) {
            ++count;
        }
    }
    return count;
}

std::vector<std::vector<Param>> ParamMap::ObjectList(std::string_view prefix) const {
    const PrefixRange range = FindPrefix(Sorted(), prefix);
    // Entries of one index share the name prefix "prefix.N.", so they are adjacent and already
    // sorted by field name; only the groups need reordering by numeric index.
    struct Group {
        uint32_t index;
        std::vector<Param> fields;
    };
    std::vector<Group> groups;
    for (auto it = range.begin; it != range.end; ++it) {
        auto entry = SplitObjectEntry(std::string_view(it->name).substr(range.key_size));
        if (!entry) {
            continue;
        }
        if (groups.empty() || groups.back().index != entry->first) {
            groups.push_back(Group{entry->first, {}});
        }
        groups.back().fields.push_back(Param{std::string(entry->second), it->value});
    }
    std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
        return a.index < b.index;
    });
    std::vector<std::vector<Param>> result;
    result.reserve(groups.size());
    for (Group& g : groups) {
        result.push_back(std::move(g.fields));
    }
    return result;
}

size_t ParamMap::ObjectListCount(std::string_view prefix) const {
    const PrefixRange range = FindPrefix(Sorted(), prefix);
    size_t count = 0;
    std::optional<uint32_t> last;
    for (auto it = range.begin; it != range.end; ++it) {
        auto entry = SplitObjectEntry(std::string_view(it->name).substr(range.key_size));
        if (entry && entry->first != last) {
            last = entry->first;
            ++count;
        }
    }
    return count;
}

}  // namespace otad::rpc
