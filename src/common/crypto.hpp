#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace otad::crypto {

enum class HashAlgorithm { kSha1, kSha256, kSm3, kMd5 };

/// True when the linked OpenSSL provides the algorithm (SM3 may be absent).
bool Available(HashAlgorithm algorithm);

/// Raw digest bytes of `data`.
std::string Hash(HashAlgorithm algorithm, std::string_view data);
/// Raw HMAC bytes of `data` under `key`.
std::string Hmac(HashAlgorithm algorithm, std::string_view key, std::string_view data);

/// Lower-case hex of raw bytes.
std::string HexLower(std::string_view bytes);
/// Standard Base64 with padding.
std::string Base64Encode(std::string_view bytes);
/// Decodes standard Base64; nothing on malformed input.
std::optional<std::string> Base64Decode(std::string_view text);

/// Equality that takes the same time for any two strings of the same length.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

/// `n` bytes from the operating system's CSPRNG. Aborts if it cannot deliver.
std::string RandomBytes(size_t n);

/// Random text of `n` characters from [A-Za-z0-9].
std::string RandomBase62(size_t n);
/// Random text of `n` characters from [a-z0-9].
std::string RandomLowerAlnum(size_t n);

/// Upper-case UUID version 4, 8-4-4-4-12 hex digits.
std::string RandomUuidUpper();

}  // namespace otad::crypto
