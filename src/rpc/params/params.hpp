#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace otad::rpc {

/// One decoded request parameter. Names are case-sensitive and compared byte-wise.
struct Param {
    std::string name;
    std::string value;
};

/// Bounds applied while decoding client-supplied parameters. All sizes are of the decoded bytes.
struct ParamLimits {
    /// Maximum number of name=value items in one request (query and body together).
    size_t max_count = 2000;
    size_t max_name_bytes = 256;
    size_t max_value_bytes = 1024 * 1024;
};

/// Decodes one form-encoded component into `out` (which is overwritten): '+' becomes a space,
/// then "%XX" (either hex case) becomes the byte 0xXX. Other bytes are copied unchanged. The
/// result is raw bytes; no UTF-8 validation happens here. Returns false on a '%' that is not
/// followed by two hex digits; `out` is then unspecified.
bool FormDecode(std::string_view in, std::string& out);

/// Splits `text` on '&' and each item at its first '=' (an item without '=' gets an empty
/// value), then form-decodes name and value. Empty items ("a=1&&b=2", a trailing '&') are
/// skipped. Order and duplicates are kept as sent.
/// Errors (all ErrorCode::kInvalidParameter): more than `limits.max_count` items, a decoded
/// name or value longer than its limit, or a malformed percent escape.
Result<std::vector<Param>> DecodeForm(std::string_view text, const ParamLimits& limits);

/// True when the media type of a Content-Type value is application/x-www-form-urlencoded,
/// ignoring parameters such as "; charset=UTF-8", surrounding blanks and letter case.
bool IsFormUrlEncoded(std::string_view content_type);

/// The decoded parameters of one request: the query, merged with a form body.
///
/// Immutable once built; safe to read from several threads. Lookups are binary searches over
/// vectors sorted by byte-wise name order, which is also the order both signature schemes use.
class ParamMap {
  public:
    /// Builds the map from the raw query (text after '?', without it), the Content-Type header
    /// value (nullptr when absent) and the de-chunked body bytes.
    ///
    /// Query items come first; within the query a repeated name keeps its last value. When the
    /// body is non-empty and the media type is form-urlencoded, body items are decoded the same
    /// way and laid on top: a body value replaces a query value of the same name (the SDK
    /// signers do the same). Any other body is ignored here. `limits.max_count` bounds the
    /// query and body items together. Errors are those of DecodeForm().
    static Result<ParamMap> FromRequest(std::string_view query,
                                        const std::string* content_type,
                                        std::string_view body,
                                        const ParamLimits& limits);

    /// Value of the parameter called exactly `name`, or nullptr. The pointer stays valid as
    /// long as the map lives.
    const std::string* Find(std::string_view name) const;

    /// Merged parameters, unique names, sorted by name (byte-wise).
    const std::vector<Param>& Sorted() const { return body_count_ == 0 ? query_ : merged_; }

    /// Query parameters only, unique names, sorted by name (byte-wise).
    const std::vector<Param>& SortedQuery() const { return query_; }

    /// Values of the repeat list `prefix.N` (N a decimal number >= 1 without sign or leading
    /// zeros), ordered by N as a number. Missing indices are simply absent ("gaps allowed");
    /// names such as `prefix.N.Field`, `prefix.01` or `prefix.x` are not part of the list.
    std::vector<std::string> List(std::string_view prefix) const;

    /// Number of elements List(prefix) would return, without building it.
    size_t ListCount(std::string_view prefix) const;

    /// Object lists `prefix.N.Field`: one group per N (same rules for N as List()), groups in
    /// numeric order of N, each group holding its fields (name = text after "prefix.N.", which
    /// may itself contain dots) sorted by field name.
    std::vector<std::vector<Param>> ObjectList(std::string_view prefix) const;

    /// Number of groups ObjectList(prefix) would return, without building it.
    size_t ObjectListCount(std::string_view prefix) const;

  private:
    ParamMap() = default;

    std::vector<Param> query_;   // sorted, unique
    std::vector<Param> merged_;  // sorted, unique; only filled when the body had parameters
    size_t body_count_ = 0;
};

}  // namespace otad::rpc
