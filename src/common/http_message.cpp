#include "common/http_message.hpp"

namespace otad {
namespace {

char Lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (Lower(a[i]) != Lower(b[i])) {
            return false;
        }
    }
    return true;
}

const std::string* HttpRequest::FindHeader(std::string_view name) const {
    for (const HttpHeader& h : headers) {
        if (EqualsIgnoreCase(h.name, name)) {
            return &h.value;
        }
    }
    return nullptr;
}

std::string_view HttpRequest::Path() const {
    const std::string_view t = target;
    return t.substr(0, t.find('?'));
}

std::string_view HttpRequest::Query() const {
    const std::string_view t = target;
    const size_t q = t.find('?');
    return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

}  // namespace otad
