#pragma once

#include "rpc/params/params.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace otad::rpc {

/// Name of the parameter that carries the V1 signature; it is left out of what is signed.
inline constexpr std::string_view kV1SignatureParam = "Signature";

/// The V1 canonicalized query: "encode(name)=encode(value)" for every parameter except
/// "Signature", joined with '&'. `sorted` must be sorted by name with unique names, as
/// ParamMap::Sorted() is. Empty values stay as "name=".
std::string V1CanonicalQuery(const std::vector<Param>& sorted);

/// method + "&%2F&" + PercentEncode(V1CanonicalQuery(sorted)). `method` is the HTTP method as
/// received (upper-case); it is part of what the client signed.
std::string V1StringToSign(std::string_view method, const std::vector<Param>& sorted);

/// Base64 (standard alphabet, padded) of HMAC-SHA1 over `string_to_sign`, keyed with
/// secret + "&".
std::string V1Signature(std::string_view string_to_sign, std::string_view secret);

}  // namespace otad::rpc
