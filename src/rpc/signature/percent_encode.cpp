#include "rpc/signature/percent_encode.hpp"

namespace otad::rpc {
namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";

}  // namespace

bool IsUnreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

void AppendPercentEncoded(std::string& out, std::string_view in) {
    for (char c : in) {
        if (IsUnreserved(c)) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHexUpper[b >> 4]);
            out.push_back(kHexUpper[b & 0xF]);
        }
    }
}

void AppendDoublePercentEncoded(std::string& out, std::string_view in) {
    for (char c : in) {
        if (IsUnreserved(c)) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.append("%25");
            out.push_back(kHexUpper[b >> 4]);
            out.push_back(kHexUpper[b & 0xF]);
        }
    }
}

size_t PercentEncodedSize(std::string_view in) {
    size_t n = 0;
    for (char c : in) {
        n += IsUnreserved(c) ? size_t{1} : size_t{3};
    }
    return n;
}

std::string PercentEncode(std::string_view in) {
    std::string out;
    out.reserve(PercentEncodedSize(in));
    AppendPercentEncoded(out, in);
    return out;
}

}  // namespace otad::rpc
